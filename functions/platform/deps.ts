// The dependencies of the functions that use Prisma (definitions, webhooks, the worker, the sweep):
// the core ones and the ORM on the same pool.
import type { Config } from "./config.ts";
import { closeDeps, createCoreDeps, type CoreDeps } from "./core-deps.ts";
import { createDb, type Db } from "./db.ts";

export { closeDeps, type CoreDeps };

export interface Deps extends CoreDeps {
  db: Db;
}

export function createDeps(config: Config, component: string, poolSize?: number, onAuthFailure?: () => void): Deps {
  const core = createCoreDeps(config, component, poolSize, onAuthFailure);
  return { ...core, db: createDb(core.pool) };
}
