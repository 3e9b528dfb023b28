// What actions run on inside the worker: the action log, the config cache, the trigger writes and the
// webhooks' health, one of each per worker process (functions/worker/delivery-runtime.ts makes them).
import type { Deps } from "../../../platform/deps.ts";
import type { EventTrigger, Webhook } from "../../../platform/db.ts";
import type { DefinitionWithTargets } from "../../matching/match-definitions.ts";
import type { DeliveryResult } from "../../webhooks/health.ts";
import type { SecretState } from "../../webhooks/secret.ts";
import type { ActionLog } from "../action-log/action-log.ts";
import type { TriggerRun } from "./trigger-writer.ts";

export type CachedWebhook = Webhook & SecretState & { definition: { id: string; name: string } };
export type CachedTrigger = EventTrigger & { definition: { id: string; name: string } };

/** Active definitions, webhooks and triggers as of `version`. */
export interface MatchConfig {
  version: bigint;
  definitionsFor(collection: string): DefinitionWithTargets[];
  webhook(id: string): CachedWebhook | undefined;
  trigger(id: string): CachedTrigger | undefined;
}

export interface ConfigCache {
  /** The configuration at least as new as `version`. */
  get(version: bigint): Promise<MatchConfig>;
}

export interface DeliveryRuntime {
  actionLog: ActionLog;
  config: ConfigCache;
  /** Resolves once the run's writes (or its failure) are committed. */
  writeTrigger(run: TriggerRun): Promise<void>;
  /** Notes a delivery's result on its webhook (advisory: never fails). */
  noteHealth(result: DeliveryResult): Promise<void>;
}

export type WorkerDeps = Deps & { runtime: DeliveryRuntime };
