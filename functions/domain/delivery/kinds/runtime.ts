// What an action kind is (how it is planned, how its row starts, how it runs), and what it runs on inside
// the worker: the action log, the config cache, the trigger writes and the webhooks' health, one of each per
// worker process (functions/worker/delivery-runtime.ts makes them). One entry per kind in registry.ts.
import type { Deps } from "../../../platform/deps.ts";
import type { Turn } from "../../../platform/flow-limiter.ts";
import type { AwaitedTurn, JobCatalog } from "../../../platform/queue.ts";
import type { ActionKind, EventTrigger, Webhook } from "../../../platform/db.ts";
import type { DefinitionWithTargets, MatchableEvent } from "../../matching/match-definitions.ts";
import type { DeliveryResult } from "../../webhooks/health.ts";
import type { PausedWebhooks } from "../../webhooks/paused-webhooks.ts";
import type { SecretState } from "../../webhooks/secret.ts";
import type { ActionLog, LoadedAction, PlannedAction } from "../action-log/action-log.ts";
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
  /** Queues a later run of an action (its job, by the action's id), after `delayMs`. */
  queueRun(job: { id: string; data: JobCatalog["run-action"]; delayMs?: number }): Promise<void>;
  /** The action kinds (kinds/registry.ts; a test may add one). */
  kinds: ActionKinds;
  config: ConfigCache;
  /** Resolves once the run's writes (or its failure) are committed. */
  writeTrigger(run: TriggerRun): Promise<void>;
  /** Notes a delivery's result on its webhook (advisory: never fails). */
  noteHealth(result: DeliveryResult): Promise<void>;
  /** Webhooks paused by a receiver's Retry-After, as this process knows them. */
  pausedWebhooks: PausedWebhooks;
}

export type WorkerDeps = Deps & { runtime: DeliveryRuntime };

/**
 * What a run answers: when the action should run again (a retry's time, or its turn's under flow control,
 * with `awaiting` for its job to carry), or null when it is done for now.
 */
export type RunOutcome = { retryAt: Date | null; awaiting?: AwaitedTurn };

/** A turn under a webhook's flow control, given (flow-turns.ts). */
export type GivenTurn = Extract<Turn, { ok: true }>;

export interface ActionKindEntry {
  /**
   * The targets of a definition this kind runs: the config cache's active ones; `ordered` when the actions
   * about one record go one at a time, in acceptance order.
   */
  targets(definition: DefinitionWithTargets): Array<{ id: string; ordered?: boolean }>;
  /** Its row when its event matches (its first run starts right after, made by the matching run). */
  start: PlannedAction["start"];
  /** The first run, with the target from the config the event was matched against. */
  runFirst(deps: WorkerDeps, action: PlannedAction, event: MatchableEvent, config: MatchConfig): Promise<RunOutcome>;
  /**
   * A later run (a retry, a replay, the sweep's), with the target as it is now; `turn` when the run holds
   * its turn under the target's flow control already (it waited for it).
   */
  runAgain(deps: WorkerDeps, action: LoadedAction, turn?: GivenTurn): Promise<RunOutcome>;
}

/** The registry's shape: an entry for every kind the database knows. */
export type ActionKinds = { readonly [K in ActionKind]: ActionKindEntry };
