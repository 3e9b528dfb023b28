-- The role the API, the worker and the sweep connect as: it reads and writes rows, and nothing more. The
-- user who runs migrations (the RDS master user in AWS, postgres locally) owns the tables and keeps DDL
-- for itself, and for break-glass work. In AWS the migrate function gives the role its password from
-- Secrets Manager; made here without one, it cannot log in where passwords are checked.
--
-- Timeouts live on the role, not in each connection: RDS Proxy refuses startup options such as
-- statement_timeout, and a SET in a session pins it to one database connection.
--
-- Roles belong to the whole server, not to one database, so several databases of one server (tests, a
-- local machine) share it: it is made and set up only where it is missing, which also keeps runners on
-- two databases at once from updating the same role row.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tetik_app') THEN
    BEGIN
      CREATE ROLE tetik_app LOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- made meanwhile by a runner on another database
    END;
  END IF;
  IF NOT EXISTS (
    SELECT FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
    WHERE r.rolname = 'tetik_app' AND s.setdatabase = 0
  ) THEN
    -- A query that cannot finish in 30 s is a sick database: fail it rather than hold the request.
    ALTER ROLE tetik_app SET statement_timeout = '30s';
    -- A transaction left open by a process that stopped between statements releases its locks.
    ALTER ROLE tetik_app SET idle_in_transaction_session_timeout = '60s';
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO tetik_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tetik_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO tetik_app;
-- The record of migrations is the migrating user's alone.
REVOKE ALL ON "_prisma_migrations" FROM tetik_app;
-- Tables and sequences that later migrations make (run by the same user) are the role's to use as well.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO tetik_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO tetik_app;
