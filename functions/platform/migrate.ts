// `npm run migrate`: creates the database if it is missing, then applies prisma/migrations.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { config } from "./config.ts";
import { adminUrl, terminal, waitForPostgres } from "./wait-for-services.ts";

/** The folder with prisma.config.ts: the project, or /app in the container (where this file is bundled). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6 && !existsSync(join(dir, "prisma.config.ts")); up++) dir = dirname(dir);
  return dir;
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

/** Applies every pending migration to the database at `url`; `quiet` shows Prisma's output only on failure. */
export async function migrate(url: string, { quiet = false } = {}): Promise<void> {
  await ensureDatabase(url);
  const root = projectRoot();
  const prisma = createRequire(join(root, "package.json")).resolve("prisma/build/index.js");
  try {
    execFileSync(process.execPath, [prisma, "migrate", "deploy"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      stdio: ["ignore", quiet ? "pipe" : "inherit", quiet ? "pipe" : "inherit"],
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    if (quiet) process.stderr.write(`${stdout ?? ""}${stderr ?? ""}`);
    throw error;
  }
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
