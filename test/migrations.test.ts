// tetik's migration runner (functions/platform/migrate.ts), which `npm run migrate`, the AWS custom
// resource and the test setup all use: against empty databases of the shared Postgres. (That Prisma's CLI
// reads its records as its own is checked in tls-postgres.test.ts.)
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, parseMigration, readMigrations } from "../functions/platform/migrate.ts";
import { SERVER_URL } from "./helpers/database.ts";

const created: string[] = [];
const newDatabaseUrl = () => {
  const name = `tetik_migrations_${randomBytes(4).toString("hex")}`;
  created.push(name);
  return `${SERVER_URL}/${name}`;
};
afterAll(async () => {
  const client = new pg.Client({ connectionString: `${SERVER_URL}/postgres` });
  await client.connect();
  for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.end();
});

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("the migration runner", () => {
  it("creates the database, applies every migration once, recorded as Prisma records them", async () => {
    const url = newDatabaseUrl();
    const migrations = readMigrations();
    expect((await applyMigrations(url)).applied).toEqual(migrations.map((m) => m.name));
    expect((await applyMigrations(url)).applied).toEqual([]);
    const rows = await query(
      url,
      `SELECT migration_name, checksum, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows).toEqual(
      migrations.map((m) => ({ migration_name: m.name, checksum: m.checksum, applied_steps_count: 1 })),
    );
  });

  it("lets one of several runners at once apply each migration; the others find nothing left to do", async () => {
    const url = newDatabaseUrl();
    await applyMigrations(url, []); // the database and Prisma's table exist, nothing applied
    const runs = await Promise.all([applyMigrations(url), applyMigrations(url), applyMigrations(url)]);
    expect(runs.flatMap((run) => run.applied).sort()).toEqual(readMigrations().map((m) => m.name));
    const [{ count }] = await query(url, `SELECT count(*)::int AS count FROM "_prisma_migrations"`);
    expect(count).toBe(readMigrations().length);
  });

  it(
    "applies nothing of a migration that fails, " +
      "and stops at a migration that failed before until a person resolves it",
    async () => {
      const url = newDatabaseUrl();
      const broken = parseMigration("29990101000000_broken", "CREATE TABLE half_done (id int); SELECT 1/0;");
      await expect(applyMigrations(url, [...readMigrations(), broken])).rejects.toThrow(
        /migration 29990101000000_broken failed, nothing of it was applied: division by zero/,
      );
      expect(await query(url, `SELECT to_regclass('half_done') AS t`)).toEqual([{ t: null }]);
      expect(
        await query(
          url,
          `SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`,
        ),
      ).toEqual([{ n: 0 }]);

      // As Prisma leaves a migration that failed half-way: started, never finished.
      await query(
        url,
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, applied_steps_count)
       VALUES ('x', '${"0".repeat(64)}', '29990101000000_broken', 0)`,
      );
      const next = parseMigration("29990102000000_next", "CREATE TABLE next_one (id int)");
      await expect(applyMigrations(url, [...readMigrations(), next])).rejects.toThrow(
        /29990101000000_broken failed before and was not resolved/,
      );
      expect(await query(url, `SELECT to_regclass('next_one') AS t`)).toEqual([{ t: null }]);
    },
  );

  it("stops at its deadline: waiting for another runner's lock, and inside a statement that would run on", async () => {
    const url = newDatabaseUrl();
    await applyMigrations(url, []);
    // Another runner, stuck while it holds the lock.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(72707369)");
      const started = Date.now();
      await expect(applyMigrations(url, readMigrations(), { deadline: Date.now() + 1_500 })).rejects.toThrow(
        /another migration run held the lock until the deadline/,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await holder.end();
    }
    expect(await query(url, `SELECT count(*)::int AS n FROM "_prisma_migrations"`)).toEqual([{ n: 0 }]);

    const slow = parseMigration("29990101000000_slow", "CREATE TABLE slow_one (id int); SELECT pg_sleep(30);");
    await expect(applyMigrations(url, [slow], { deadline: Date.now() + 1_500 })).rejects.toThrow(
      /29990101000000_slow failed, nothing of it was applied: canceling statement due to statement timeout/,
    );
    expect(await query(url, `SELECT to_regclass('slow_one') AS t`)).toEqual([{ t: null }]);
  });

  it(
    "runs a -- tetik:no-transaction migration outside a transaction (CREATE INDEX CONCURRENTLY), " +
      "one statement only, and records a failure for a person to resolve",
    async () => {
      const url = newDatabaseUrl();
      await applyMigrations(url, []);
      await query(url, "CREATE TABLE things (id int, v int)");
      const index = parseMigration(
        "29990101000000_index",
        "-- An index built without locking writes out.\n-- tetik:no-transaction\n" +
          "CREATE INDEX CONCURRENTLY things_v ON things (v);\n",
      );
      expect(index.transaction).toBe(false);
      // Inside a transaction Postgres refuses it: the marker is what makes it run.
      await expect(
        applyMigrations(url, [
          parseMigration("29990100000000_index_in_tx", "CREATE INDEX CONCURRENTLY x ON things (v)"),
        ]),
      ).rejects.toThrow(/cannot run inside a transaction block/);
      expect((await applyMigrations(url, [index])).applied).toEqual(["29990101000000_index"]);
      expect(await query(url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'things_v'::regclass`)).toEqual([
        { indisvalid: true },
      ]);

      // A second statement is refused by Postgres itself (the extended protocol takes one), before anything runs.
      const two = parseMigration(
        "29990102000000_two",
        "-- tetik:no-transaction\nCREATE TABLE one_of_two (id int); CREATE TABLE two_of_two (id int);",
      );
      await expect(applyMigrations(url, [index, two])).rejects.toThrow(
        /29990102000000_two \(no transaction\) failed; what it did before failing stays: cannot insert multiple/,
      );
      expect(await query(url, `SELECT to_regclass('one_of_two') AS t`)).toEqual([{ t: null }]);
      // Recorded as started and never finished: later runs stop there until a person has looked.
      const fixed = parseMigration("29990102000000_two", "-- tetik:no-transaction\nCREATE TABLE one_of_two (id int)");
      await expect(applyMigrations(url, [index, fixed])).rejects.toThrow(
        /29990102000000_two failed before and was not resolved: .*npm run migrate -- resolve --rolled-back/,
      );
      const resolve = await runMigrateCommand(url, ["resolve", "--rolled-back", "29990102000000_two"]);
      expect(resolve.output).toContain("29990102000000_two resolved as rolled back");
      expect(resolve.code).toBe(0);
      expect((await applyMigrations(url, [index, fixed])).applied).toEqual(["29990102000000_two"]);
      expect(await query(url, `SELECT to_regclass('one_of_two')::text AS t`)).toEqual([{ t: "one_of_two" }]);
    },
  );
});

/** `npm run migrate -- <args>` against `url`: its exit code and what it printed. */
async function runMigrateCommand(url: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "functions/ops/migrate.ts", ...args],
      { env: { ...process.env, DATABASE_URL: url }, timeout: 60_000 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}
