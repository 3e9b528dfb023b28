// Migrations: prisma/migrations/<name>/migration.sql, applied in name order. tetik applies them itself
// rather than through Prisma's CLI, so they run wherever tetik runs (a Lambda, a container, `npm run
// migrate`) with only pg: one runner at a time (an advisory lock), each recorded in Prisma's own table, as
// Prisma records them, so `prisma migrate status` and `prisma migrate diff` keep working for whoever
// writes the next migration.
//
// A migration runs in a transaction unless its file says otherwise, in a line of its own:
// - `-- tetik:no-transaction`: one statement, outside a transaction (CREATE INDEX CONCURRENTLY, or a DO
//   block that commits between batches of a backfill). Sent with the extended query protocol, which
//   refuses a second statement and opens no transaction block around the one.
// - `-- tetik:run-as-task`: may take longer than the migrate function's 5 minutes. The migrate function
//   stops before it (and so before every later one); `npm run migrate`, which the one-off ECS task of
//   infra/run-migrations.sh runs, applies it.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { setAppRolePassword } from "./app-role.ts";
import { migrateQueueSchema } from "./queue.ts";
import { adminUrl } from "./wait-for-services.ts";

/** Any number, the same for every runner: whoever holds it applies migrations, the others wait. */
const MIGRATION_LOCK = 72_707_369;
/** How long a run may take, waiting for another runner's lock included, unless its caller says. */
const DEFAULT_BUDGET_MS = 15 * 60_000;
const LOCK_POLL_MS = 500;

const PRISMA_TABLE = `
  CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
  )`;

/** prisma/migrations of the project, of /app in the container, or of /var/task in a Lambda (found upwards). */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6 && !existsSync(join(dir, "prisma", "migrations")); up++) dir = dirname(dir);
  return join(dir, "prisma", "migrations");
}

export interface Migration {
  name: string;
  sql: string;
  /** As Prisma computes it: the SHA-256 of the file, in hex. */
  checksum: string;
  /** False for `-- tetik:no-transaction`: one statement, run outside a transaction. */
  transaction: boolean;
  /** `-- tetik:run-as-task`: too long for the migrate function; applied by `npm run migrate` (a task). */
  runAsTask: boolean;
}

/** A migration from its name and text, its markers read. */
export function parseMigration(name: string, sql: string): Migration {
  return {
    name,
    sql,
    checksum: createHash("sha256").update(sql).digest("hex"),
    transaction: !/^-- tetik:no-transaction\s*$/m.test(sql),
    runAsTask: /^-- tetik:run-as-task\s*$/m.test(sql),
  };
}

export function readMigrations(dir: string = migrationsDir()): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => parseMigration(name, readFileSync(join(dir, name, "migration.sql"), "utf8")));
}

/** Creates the database named in `url` unless it exists (connecting to the server's `postgres` database). */
export async function ensureDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const client = new pg.Client({ connectionString: adminUrl(url), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== "42P04") throw error; // created by someone else meanwhile
      });
    }
  } finally {
    await client.end();
  }
}

export interface ApplyOptions {
  /** Create the database when it is missing (RDS creates its own: there it is false). */
  create?: boolean;
  /** When the run must be over (epoch ms): waiting for the lock and every statement stop there. */
  deadline?: number;
  /** Stop before the first `-- tetik:run-as-task` migration (the migrate function, which has 5 minutes). */
  stopBeforeTask?: boolean;
  /** Give the role tetik_app this password once the migrations are applied (app-role.ts). */
  appRolePassword?: string;
}

export interface MigrationRun {
  /** The migrations this run applied, in order. */
  applied: string[];
  /** Not applied because of `stopBeforeTask`: the first is a run-as-task migration, the rest follow it. */
  leftForTask: string[];
}

/**
 * Applies every migration `url`'s database lacks, in order. A migration that failed earlier (a row without
 * finished_at) stops the run, as it stops Prisma: it needs a person (`npm run migrate -- resolve`).
 */
export async function applyMigrations(
  url: string,
  migrations: Migration[] = readMigrations(),
  {
    create = true,
    deadline = Date.now() + DEFAULT_BUDGET_MS,
    stopBeforeTask = false,
    appRolePassword,
  }: ApplyOptions = {},
): Promise<MigrationRun> {
  if (create) await ensureDatabase(url);
  return withMigrationLock(url, deadline, async (client) => {
    const done = await finishedMigrations(client);
    const pending = migrations.filter((m) => !done.has(m.name));
    const stop = stopBeforeTask ? pending.findIndex((m) => m.runAsTask) : -1;
    const [toApply, left] = stop === -1 ? [pending, []] : [pending.slice(0, stop), pending.slice(stop)];
    for (const migration of toApply) await (migration.transaction ? applyInTransaction : applyAlone)(client, migration);
    await migrateQueueSchema(client);
    if (appRolePassword) await setAppRolePassword(client, appRolePassword);
    return { applied: toApply.map((m) => m.name), leftForTask: left.map((m) => m.name) };
  });
}

/** Runs `work` on a connection of its own that holds the migration lock, every statement ending by `deadline`. */
async function withMigrationLock<T>(url: string, deadline: number, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  // A connection lost between queries is reported by the query that follows; unheard, it would end the process.
  client.on("error", () => {});
  await client.connect();
  try {
    await acquireLock(client, deadline);
    // No statement outlives the run: a migration stuck behind another session's lock fails at the deadline.
    const left = String(Math.max(1, deadline - Date.now()));
    await client.query("SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $1, false)", [
      left,
    ]);
    await client.query(PRISMA_TABLE);
    return await work(client);
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    await client.end();
  }
}

/** The names of the migrations applied; throws at one that failed before and was not resolved. */
async function finishedMigrations(client: pg.Client): Promise<Set<string>> {
  const { rows } = await client.query<{
    migration_name: string;
    finished_at: Date | null;
    rolled_back_at: Date | null;
  }>(`SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations"`);
  const broken = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (broken)
    throw new Error(
      `migration ${broken.migration_name} failed before and was not resolved: undo or finish what it did, ` +
        `then \`npm run migrate -- resolve --rolled-back ${broken.migration_name}\` (to run it again) ` +
        `or \`--applied ${broken.migration_name}\` (done by hand)`,
    );
  return new Set(
    rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((r) => r.migration_name),
  );
}

const RECORD_STARTED = `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
  VALUES ($1, $2, $3, now(), 0)`;
const RECORD_FINISHED = `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`;

/** The migration and its record commit together: a failure leaves nothing of it behind. */
async function applyInTransaction(client: pg.Client, migration: Migration): Promise<void> {
  const id = randomUUID();
  await client.query("BEGIN");
  try {
    await client.query(migration.sql);
    await client.query(RECORD_STARTED, [id, migration.checksum, migration.name]);
    await client.query(RECORD_FINISHED, [id]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw new Error(`migration ${migration.name} failed, nothing of it was applied: ${(error as Error).message}`);
  }
}

/**
 * Outside a transaction nothing can be rolled back: the migration is recorded as started first, so a
 * failure half-way leaves an unfinished record that stops later runs until a person has looked.
 */
async function applyAlone(client: pg.Client, migration: Migration): Promise<void> {
  const id = randomUUID();
  await client.query(RECORD_STARTED, [id, migration.checksum, migration.name]);
  try {
    // pg reads queryMode from a query's config; @types/pg does not list it.
    await client.query({ text: migration.sql, queryMode: "extended" } as pg.QueryConfig);
  } catch (error) {
    throw new Error(
      `migration ${migration.name} (no transaction) failed; what it did before failing stays: ` +
        `${(error as Error).message}`,
    );
  }
  await client.query(RECORD_FINISHED, [id]);
}

/** Another runner holds the lock while it migrates: try again until it is free or the deadline passes. */
async function acquireLock(client: pg.Client, deadline: number): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [
      MIGRATION_LOCK,
    ]);
    if (rows[0]!.locked) return;
    if (Date.now() + LOCK_POLL_MS >= deadline)
      throw new Error("another migration run held the lock until the deadline");
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

/**
 * Settles a migration that failed outside a transaction, as `prisma migrate resolve` does: `rolled-back`
 * (its effects were undone: the next run applies it again) or `applied` (finished by hand).
 */
export async function resolveMigration(url: string, name: string, as: "rolled-back" | "applied"): Promise<void> {
  await withMigrationLock(url, Date.now() + DEFAULT_BUDGET_MS, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE "_prisma_migrations" SET ${as === "applied" ? "finished_at" : "rolled_back_at"} = now()
       WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`,
      [name],
    );
    if (!rowCount) throw new Error(`no failed migration named ${name} waits to be resolved`);
  });
}
