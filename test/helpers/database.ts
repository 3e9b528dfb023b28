// A database per test file, cloned from a template migrated once per run (CREATE DATABASE ... TEMPLATE
// copies files: much faster than migrating each one).
import { randomBytes } from "node:crypto";
import pg from "pg";
import { DEFAULT_DATABASE_SERVER } from "./test-services.ts";

export const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? DEFAULT_DATABASE_SERVER;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${SERVER_URL}/postgres` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** As the server's admin (postgres): the owner of the tables, as migrations and set-ups run. */
  url: string;
  /**
   * As `tetik_app`, the role tetik's processes use in AWS (made by a migration): it may read and write rows
   * and nothing else, so a test run on it fails where tetik needs more.
   */
  appUrl: string;
  drop(): Promise<void>;
}

/** Clones the run's template (named by the global setup through vitest's provide/inject). */
export async function createTestDatabase(template: string): Promise<TestDatabase> {
  const name = `tetik_test_${randomBytes(5).toString("hex")}`;
  // Two clones of one template at the same moment can collide ("being accessed by other users"): retry, bounded.
  for (let attempt = 1; ; attempt++) {
    try {
      await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
      break;
    } catch (error) {
      if (attempt >= 20 || (error as { code?: string }).code !== "55006") throw error;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
  return {
    url: `${SERVER_URL}/${name}`,
    appUrl: `${SERVER_URL.replace(/\/\/[^@/]*@/, "//tetik_app@")}/${name}`,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A template database for this run, migrated once; test files clone it. */
export async function createTemplate(
  migrate: (url: string) => Promise<void>,
): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `tetik_test_template_${randomBytes(4).toString("hex")}`;
  await migrate(`${SERVER_URL}/${name}`);
  return {
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
