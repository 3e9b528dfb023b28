// The machinery the worker's jobs share, one per worker process: batched event claims, the config cache,
// the group-commit log writer and the trigger writer (the interfaces are domain/delivery/pipeline.ts).
import type { Pipeline, WorkerDeps } from "../../domain/delivery/pipeline.ts";
import type { Deps } from "../../platform/deps.ts";
import { fromPg } from "../../platform/sql.ts";
import { createConfigCache } from "./config-cache.ts";
import { createEventClaimer, releaseClaim } from "./event-claimer.ts";
import { createLogWriter } from "./log-writer.ts";
import { createTriggerWriter } from "./trigger-writer.ts";

export function createPipeline(deps: Pick<Deps, "pool" | "now" | "log" | "config" | "secrets" | "queue">): Pipeline {
  const q = fromPg(deps.pool);
  const claimer = createEventClaimer(q, deps.now, {
    defaultTimeoutMs: deps.config.WEBHOOK_TIMEOUT_MS,
    marginMs: deps.config.EVENT_LEASE_MS,
  });
  return {
    claimEvent: (id) => claimer.add(id),
    releaseClaim: (id, error) => releaseClaim(q, id, error),
    config: createConfigCache(q, deps.secrets),
    log: createLogWriter(deps.pool, deps.now, deps.log),
    writeTrigger: createTriggerWriter(deps),
  };
}

export function withPipeline(deps: Deps, pipeline: Pipeline = createPipeline(deps)): WorkerDeps {
  return { ...deps, pipeline };
}
