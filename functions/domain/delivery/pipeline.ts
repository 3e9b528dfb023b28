// What delivery runs on inside the worker, as interfaces: event claims, the config cache, the log's writes
// and the trigger writes. Delivery decides what is written; the worker's implementations
// (functions/worker/pipeline/) decide how, batching the writes of concurrent jobs into few round trips.
import type { Deps } from "../../platform/deps.ts";
import type { EventStatus, EventTrigger, Webhook } from "../../platform/db.ts";
import type { DefinitionWithTargets, MatchableEvent, PlannedAction } from "../matching/match-definitions.ts";
import type { TriggerPlan } from "../triggers/plan-trigger.ts";
import type { SecretState } from "../webhooks/secret.ts";
import type { SendResult } from "../webhooks/send-webhook.ts";

export interface ClaimedEvent {
  /** Undefined when the event is not there, already matched, or claimed by a run whose lease holds. */
  event: MatchableEvent | undefined;
  /** config_version when the event was claimed: the config it is matched against is at least this new. */
  configVersion: bigint;
}

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

/** An event's planned actions, written with the event marked matched. */
export interface Match {
  eventId: string;
  actions: PlannedAction[];
}

/** One delivery attempt and what follows it (nextAttempt's answer), to be written to the log. */
export interface AttemptOutcome {
  eventId: string;
  actionId: string;
  webhookId: string;
  attempt: number;
  requestedAt: Date;
  result: SendResult;
  status: Extract<EventStatus, "completed" | "retrying" | "failed">;
  nextAttemptAt: Date | null;
  finishedAt: Date;
  /**
   * Set for the first attempt of an event's only action, a webhook, which is not written yet: the action,
   * its attempt and the event's status (the action's own) are written in one statement.
   */
  soleAction?: { definitionId: string };
}

export interface LogWriter {
  /** Writes an event's actions and marks it matched; answers the ids of the actions this call created. */
  match(match: Match): Promise<Set<string>>;
  /** Writes one delivery attempt, its action's new state and its event's status. */
  record(outcome: AttemptOutcome): Promise<void>;
}

/** One run of a trigger action: its plan, written with the events that report it and the action's completion. */
export interface TriggerRun {
  actionId: string;
  event: { id: string; depth: number };
  plan: TriggerPlan;
}

export interface Pipeline {
  claimEvent(id: string): Promise<ClaimedEvent>;
  /** Gives up the claim of an event not matched yet, after `error`, so a retry of the job claims it at once. */
  releaseClaim(id: string, error: unknown): Promise<void>;
  config: ConfigCache;
  log: LogWriter;
  /** Resolves once the run's writes (or its failure) are committed. */
  writeTrigger(run: TriggerRun): Promise<void>;
}

export type WorkerDeps = Deps & { pipeline: Pipeline };
