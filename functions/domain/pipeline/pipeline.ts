// What the worker's hot path shares across its concurrent jobs: batched event claims, the config cache and
// the group-commit log writer. One per worker process.
import type { Deps } from "../../platform/deps.ts";
import { fromPg } from "../../platform/sql.ts";
import { createConfigCache, type ConfigCache } from "./config-cache.ts";
import { createEventClaimer, releaseClaim, type ClaimedEvent } from "./event-claimer.ts";
import { createLogWriter, type LogWriter } from "./log-writer.ts";
import { createTriggerRunner, type TriggerRunner } from "../triggers/trigger-runner.ts";

export interface Pipeline {
  claimEvent(id: string): Promise<ClaimedEvent>;
  releaseClaim(id: string, error: unknown): Promise<void>;
  config: ConfigCache;
  writer: LogWriter;
  triggers: TriggerRunner;
}

export type WorkerDeps = Deps & { pipeline: Pipeline };

export function createPipeline(deps: Pick<Deps, "pool" | "now" | "log" | "config" | "secrets" | "queue">): Pipeline {
  const q = fromPg(deps.pool);
  const claimer = createEventClaimer(q, deps.now, { defaultTimeoutMs: deps.config.WEBHOOK_TIMEOUT_MS, marginMs: deps.config.EVENT_LEASE_MS });
  return {
    claimEvent: (id) => claimer.add(id),
    releaseClaim: (id, error) => releaseClaim(q, id, error),
    config: createConfigCache(q, deps.secrets),
    writer: createLogWriter(deps.pool, deps.now, deps.log),
    triggers: createTriggerRunner(deps),
  };
}

export function withPipeline(deps: Deps): WorkerDeps {
  return { ...deps, pipeline: createPipeline(deps) };
}
