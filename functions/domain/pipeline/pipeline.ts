// What the worker's hot path shares across its concurrent jobs: batched event loads, the config cache and
// the group-commit log writer. One per worker process.
import type { Deps } from "../../platform/deps.ts";
import { fromPg } from "../../platform/sql.ts";
import { createConfigCache, type ConfigCache } from "./config-cache.ts";
import { createEventLoader, type LoadedEvent } from "./event-loader.ts";
import { createLogWriter, type LogWriter } from "./log-writer.ts";

export interface Pipeline {
  loadEvent(id: string): Promise<LoadedEvent>;
  config: ConfigCache;
  writer: LogWriter;
}

export type WorkerDeps = Deps & { pipeline: Pipeline };

export function createPipeline(deps: Pick<Deps, "pool" | "now" | "log">): Pipeline {
  const q = fromPg(deps.pool);
  const loader = createEventLoader(q);
  return { loadEvent: (id) => loader.add(id), config: createConfigCache(q), writer: createLogWriter(deps.pool, deps.now, deps.log) };
}

export function withPipeline(deps: Deps): WorkerDeps {
  return { ...deps, pipeline: createPipeline(deps) };
}
