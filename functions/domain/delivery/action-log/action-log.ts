// The action log: the one writer of event_actions, delivery_attempts and event_log's status (ingestion
// only inserts events, pending). Callers name a transition; the statements live in ./action-log/, built
// on the status rule (./action-log/event-status.ts). The worker's transitions are group-committed here:
// concurrent runs share a flush, and each waits for its own, so nothing is acknowledged before it is
// durable. The table in README.md lists every transition with the function that performs it.
import { createBatcher } from "../../../platform/batcher.ts";
import { isNotAnOutage } from "../../../platform/dependency-errors.ts";
import type { Pool } from "../../../platform/pool.ts";
import { fromPg, type Queryable } from "../../../platform/sql.ts";
import type { Emitted } from "../../operational/operational-events.ts";
import {
  writeAttempts,
  writeFirstAttempts,
  writeSharedOutcomes,
  type AttemptOutcome,
  type FirstAttempt,
} from "./attempts.ts";
import { claimEvents, releaseClaim, type ClaimedEvent, type LeaseSettings } from "./claims.ts";
import { writeMatches, type Match } from "./matches.ts";
import {
  beginRun,
  failAction,
  holdIfBehind,
  nextInOrder,
  noteFailedRun,
  settleRuns,
  startAttempt,
  waitForTurn,
  type OrderedAction,
  type OrderTurn,
  type SettledRuns,
} from "./runs.ts";

export { writeTestSend, type AttemptOutcome, type AttemptResult } from "./attempts.ts";
export type { ClaimedEvent, LeaseSettings } from "./claims.ts";
export type { Match, PlannedAction } from "./matches.ts";
export { failExhaustedEvents, pruneCompletedEvents, takeStuckActions, takeStuckEvents } from "./recovery.ts";
export { replayActionRows, retryUnmatchedEvent, settleReplayedEvents } from "./replays.ts";
export {
  loadAction,
  type LoadedAction,
  type OrderedAction,
  type OrderTurn,
  type RunResult,
  type SettledRuns,
} from "./runs.ts";
export { FINAL_STATUSES, orderKey, sqlList } from "./event-status.ts";

/** The transitions the worker makes, batched across the runs of one process. */
export interface ActionLog {
  /** pending -> processing (leased): makes the caller the run that matches the event. */
  claim(eventId: string): Promise<ClaimedEvent>;
  /** processing -> pending for an event not matched yet, after `error`, so a retried job claims it at once. */
  releaseClaim(eventId: string, error: unknown): Promise<void>;
  /** Writes an event's actions and marks it matched; answers the ids of the actions this call created. */
  match(match: Match): Promise<Set<string>>;
  /** A later run of an action begins: counted, so a crash counts too. */
  beginRun(actionId: string): Promise<void>;
  /** A later delivery attempt is in flight: -> processing. */
  startAttempt(actionId: string, attempt: number): Promise<void>;
  /** A run that ended in an error (an outage does not count). */
  noteFailedRun(actionId: string, error: unknown): Promise<void>;
  /** -> pending, waiting for its turn (the webhook's flow control), with the reason; not an attempt. */
  wait(action: { id: string; eventId: string }, reason: string): Promise<void>;
  /**
   * An ordered action behind an unfinished earlier one of its webhook and record -> pending, waiting
   * "order"; answers whether it waits. The earlier one's end releases it.
   */
  holdIfBehind(action: OrderedAction): Promise<OrderTurn>;
  /** Any unfinished -> failed, for good, with a code and a reason. */
  fail(action: Finishing, errorCode: string, error: string): Promise<void>;
  /** One delivery attempt, its action's new state (nextAttempt's answer) and its event's status. */
  recordAttempt(outcome: AttemptOutcome): Promise<void>;
  /** Runs (of a kind that writes, like a trigger) settled in one transaction with what `work` writes. */
  settleRuns<R extends { actionId: string; eventId: string }, T>(
    runs: R[],
    work: (q: Queryable, open: R[]) => Promise<SettledRuns<T>>,
    empty: T,
  ): Promise<T>;
}

/** An action whose end may release the next of its webhook and record, when it is ordered. */
type Finishing = { id: string; eventId: string; targetId?: string; orderKey?: string | null };

export interface ActionLogOptions {
  lease: LeaseSettings;
  /** Queues the runs of ordered actions whose turn came (the one before them ended). */
  release(actionIds: string[]): Promise<void>;
  /**
   * Queues the operational events (delivery.exhausted) that transitions wrote, after their commit; without
   * it the sweep queues them.
   */
  announce?(emitted: Emitted[]): Promise<void>;
}

export function createActionLog(
  pool: Pool,
  now: () => Date,
  { lease, release, announce = async () => {} }: ActionLogOptions,
): ActionLog {
  // After an ordered action's end is committed: the next of its webhook and record may go.
  const releaseNext = async (action: Finishing) => {
    if (!action.orderKey || !action.targetId) return;
    const next = await nextInOrder(pool, { targetId: action.targetId, orderKey: action.orderKey });
    if (next) await release([next]);
  };
  const q = fromPg(pool);
  // A flush that fails for one item's sake is tried again in halves, so it fails no other (see batcher.ts).
  const options = { retryAlone: isNotAnOutage };
  const claims = createBatcher<string, ClaimedEvent>((ids) => claimEvents(q, ids, now(), lease), options);
  const matches = createBatcher<Match, Set<string>>(async (items) => {
    const { created, emitted } = await writeMatches(q, items, now());
    await announce(emitted);
    return items.map(() => created);
  }, options);
  // Writes that answer nothing but their commit (and the operational events they wrote, queued after it).
  const writer = <I>(write: (items: I[]) => Promise<Emitted[]>) =>
    createBatcher<I, void>(async (items) => {
      await announce(await write(items));
      return items.map(() => undefined);
    }, options);
  const attempts = writer<AttemptOutcome>((items) => writeAttempts(pool, items));
  const firstAttempts = writer<FirstAttempt>((items) => writeFirstAttempts(q, items));
  // The common case, an event whose match is one action whose first run is an attempt (a webhook): its match
  // is written with that attempt, one statement instead of two (measured: a third of Postgres's CPU per
  // event). Until then only this run knows of the action, and the event's claim (its lease) covers it.
  const heldMatches = new Map<string, { match: Match; at: Date }>();
  // First attempts of events matched here with other actions: written under the events' locks at once,
  // without first asking whether they have others (a statement per flush: a third of Postgres's CPU per
  // event with three webhooks).
  const sharedAttempts = writer<AttemptOutcome>((items) => writeSharedOutcomes(pool, items));
  const withOthers = new Set<string>();
  return {
    claim: (id) => claims.add(id),
    releaseClaim: (id, error) => releaseClaim(q, id, error),
    match(m) {
      const [only] = m.actions;
      // Not an ordered one: the actions after it must see it in flight.
      if (m.actions.length === 1 && only!.start.attempts === 1 && !only!.failure && !only!.ordered) {
        heldMatches.set(only!.id, { match: m, at: now() });
        return Promise.resolve(new Set([only!.id]));
      }
      const attempted = m.actions.filter((a) => a.start.attempts === 1 && !a.failure).map((a) => a.id);
      for (const id of attempted) withOthers.add(id);
      return matches.add(m).then(
        (created) => {
          for (const id of attempted) if (!created.has(id)) withOthers.delete(id);
          return created;
        },
        (error) => {
          for (const id of attempted) withOthers.delete(id);
          throw error;
        },
      );
    },
    beginRun: (id) => beginRun(q, id),
    startAttempt: (id, attempt) => startAttempt(q, id, attempt),
    noteFailedRun(id, error) {
      // A held match dies with its run: the event is still unmatched, and its claim is released for the retry.
      withOthers.delete(id);
      if (heldMatches.delete(id)) return Promise.resolve();
      return noteFailedRun(pool, id, error);
    },
    async fail(action, errorCode, error) {
      await announce(await failAction(pool, action, now(), errorCode, error));
      await releaseNext(action);
    },
    holdIfBehind: (action) => holdIfBehind(pool, action, now()),
    async wait(action, reason) {
      // A held match is written now, its action waiting instead of in flight.
      const held = heldMatches.get(action.id);
      withOthers.delete(action.id);
      if (held) {
        heldMatches.delete(action.id);
        await matches.add(held.match);
      }
      await waitForTurn(pool, action, reason, now());
    },
    async recordAttempt(o) {
      const held = heldMatches.get(o.actionId);
      heldMatches.delete(o.actionId);
      if (withOthers.delete(o.actionId)) await sharedAttempts.add(o);
      else if (held) {
        const [action] = held.match.actions;
        await firstAttempts.add({ outcome: o, definitionId: action!.definitionId, matchedAt: held.at });
      } else await attempts.add(o);
      if (o.status !== "retrying")
        await releaseNext({ id: o.actionId, eventId: o.eventId, targetId: o.webhookId, orderKey: o.orderKey });
    },
    async settleRuns(runs, work, empty) {
      const settled = await settleRuns(pool, runs, now(), work);
      await announce(settled?.emitted ?? []);
      return settled ? settled.extra : empty;
    },
  };
}
