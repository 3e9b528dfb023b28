// Migrations: prisma/migrations/<name>/migration.sql, applied in name order. tetik applies them itself
// rather than through Prisma's CLI, so they run wherever tetik runs (a Lambda, a container, `npm run
// migrate`) with only pg: each in a transaction, one runner at a time (an advisory lock), and recorded in
// Prisma's own table, as Prisma records them, so `prisma migrate status` and `prisma migrate diff` keep
// working for whoever writes the next migration.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { config } from "./config.ts";
import { adminUrl, terminal, waitForPostgres } from "./wait-for-services.ts";

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
}

export function readMigrations(dir: string = migrationsDir()): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
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
}

/**
 * Applies every migration `url`'s database lacks, in order; answers the names applied. A migration that
 * failed earlier (a row without finished_at) stops the run, as it stops Prisma: it needs a person.
 */
export async function applyMigrations(
  url: string,
  migrations: Migration[] = readMigrations(),
  { create = true, deadline = Date.now() + DEFAULT_BUDGET_MS }: ApplyOptions = {},
): Promise<string[]> {
  if (create) await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  // A connection lost between queries is reported by the query that follows; unheard, it would end the process.
  client.on("error", () => {});
  await client.connect();
  const left = () => Math.max(1, deadline - Date.now());
  try {
    await acquireLock(client, deadline);
    // No statement outlives the run: a migration stuck behind another session's lock fails at the deadline.
    await client.query("SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $1, false)", [
      String(left()),
    ]);
    await client.query(PRISMA_TABLE);
    const { rows } = await client.query<{
      migration_name: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
    }>(`SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations"`);
    const broken = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
    if (broken)
      throw new Error(
        `migration ${broken.migration_name} failed before and was not resolved: see \`prisma migrate resolve\``,
      );
    const done = new Set(
      rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => row.migration_name),
    );
    const applied: string[] = [];
    for (const migration of migrations.filter((m) => !done.has(m.name))) {
      await client.query("BEGIN");
      try {
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations"
             (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), migration.checksum, migration.name],
        );
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw new Error(`migration ${migration.name} failed, nothing of it was applied: ${(error as Error).message}`);
      }
      applied.push(migration.name);
    }
    return applied;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    await client.end();
  }
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

/** Applies every pending migration to the database at `url` (created if missing); `quiet` prints nothing. */
export async function migrate(url: string, { quiet = false } = {}): Promise<void> {
  const applied = await applyMigrations(url);
  if (!quiet)
    terminal.info(
      applied.length ? `applied ${applied.length} migration(s): ${applied.join(", ")}` : "the database is up to date",
    );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { DATABASE_URL, DEPENDENCY_WAIT_MS } = config();
  waitForPostgres(DATABASE_URL, { waitMs: DEPENDENCY_WAIT_MS, log: terminal })
    .then(() => migrate(DATABASE_URL))
    .catch((error) => {
      console.error(`tetik: migration failed: ${error.message}`);
      process.exit(1);
    });
}
