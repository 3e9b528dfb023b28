// The pg pool every query goes through: the hot paths' plain SQL directly, Prisma through its adapter.
//
// Connections carry no settings in their startup message (no statement_timeout, no options): RDS Proxy
// refuses every startup option it does not know, which would refuse every connection in AWS
// (test/startup-message.test.ts holds each way tetik connects to that). The server-side timeouts are set
// on the role tetik connects as (prisma/migrations/20261203000000_app_role); `query_timeout` here is the
// client's own bound on a connection that stops answering.
import pg from "pg";

export type Pool = pg.Pool;

/** Past the role's 30 s statement_timeout, so the server's own (clearer) error normally comes first. */
export const QUERY_TIMEOUT_MS = 35_000;

export interface PoolOptions {
  url: string;
  /** Connections in this process's pool. A Lambda instance serves one request at a time: keep it small. */
  poolSize?: number;
  /**
   * Told when Postgres refuses the password (28P01): in AWS a rotated secret that this process has not
   * read yet (see lambda-deps.ts).
   */
  onAuthFailure?: () => void;
}

/** pg gave up waiting for an answer (query_timeout): the connection is not to be used again. */
export const isReadTimeout = (error: unknown) => (error as Error | undefined)?.message === "Query read timeout";

/** SQLSTATE 28P01: the password was refused (invalid_password). */
export const isAuthFailure = (error: unknown) => (error as { code?: string } | undefined)?.code === "28P01";

export function createPool({ url, poolSize = 10, onAuthFailure }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    query_timeout: QUERY_TIMEOUT_MS,
    ...(onAuthFailure ? { Client: reportingAuthFailures(onAuthFailure) } : {}),
  });
  // An idle connection that breaks is replaced on next use; the error itself needs no handling.
  pool.on("error", () => {});
  return pool;
}

/** pg's Client, telling `onAuthFailure` when a connection is refused for its password. */
function reportingAuthFailures(onAuthFailure: () => void): typeof pg.Client {
  const report = (error: unknown) => {
    if (isAuthFailure(error)) onAuthFailure();
  };
  type Callback = Parameters<pg.Client["connect"]>[0] & {};
  return class extends pg.Client {
    // pg-pool connects with a callback; anyone else may await the promise.
    override connect(): Promise<pg.Client>;
    override connect(callback: Callback): void;
    override connect(callback?: Callback): Promise<pg.Client> | undefined {
      if (!callback)
        return super.connect().catch((error: unknown) => {
          report(error);
          throw error;
        });
      super.connect((error: Error) => {
        if (error) report(error);
        (callback as (err: Error) => void)(error);
      });
      return undefined;
    }
  };
}
