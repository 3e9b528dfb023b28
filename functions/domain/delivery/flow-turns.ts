// Turns under a webhook's flow control (platform/flow-limiter.ts, shared by every worker): a delivery takes
// one before its attempt, or waits. The wait is written to the log once (pending, with its reason); the woken
// delivery asks the limiter again with what its job carries (AwaitedTurn), so waiting costs Redis calls, and
// Postgres is read only when the turn has come.
import { setTimeout as sleep } from "node:timers/promises";
import type { AwaitedTurn } from "../../platform/queue.ts";
import type { GivenTurn, RunOutcome, WorkerDeps } from "./kinds/runtime.ts";

/** What a delivery asks the limiter for: a turn to one webhook under its limits, held for leaseMs. */
export type TurnRequest = Pick<AwaitedTurn, "webhookId" | "limits" | "leaseMs">;

type TurnDeps = Pick<WorkerDeps, "flow" | "runtime" | "metrics" | "now">;

/**
 * A booked turn is woken this much before its time, and the rest is waited out in the run: the queue's
 * delayed jobs come back up to ~100 ms late (Redis ends a blocking wait on its own clock tick, 10 a second by
 * default). Early enough for most wakes to be on time, late enough that few jobs hold a worker's slot while
 * they wait out the rest.
 */
const EARLY_WAKE_MS = 60;

/** Most short waits a run makes for its booked turn before it goes back to the queue. */
const IN_RUN_WAITS = 3;

/** Most of the random spread added to an unbooked wait, so the deliveries that waited together do not all
 * come back in the same millisecond. */
const WAIT_SPREAD_MS = 100;

/**
 * The action's turn, or the wait for it: when to run again and what the job carries to ask again. `waited`
 * is the wait the action comes back from (its booking is taken if its time has come).
 */
export async function takeTurn(
  deps: TurnDeps,
  action: { id: string; eventId: string },
  request: TurnRequest,
  waited?: AwaitedTurn,
): Promise<{ turn: GivenTurn } | { wait: RunOutcome }> {
  const ask = (booking?: string) =>
    deps.flow.take(request.webhookId, request.limits, { token: action.id, leaseMs: request.leaseMs, booking });
  let turn = await ask(waited?.booking);
  // A booked turn due in a moment (or due, and a start about to leave the last second) is waited out here.
  for (let i = 0; i < IN_RUN_WAITS && !turn.ok && turn.booking && turn.waitMs <= EARLY_WAKE_MS; i++) {
    await sleep(turn.waitMs);
    turn = await ask(turn.booking);
  }
  if (turn.ok) return { turn };
  // The wait counts from the answer (the write below may take a while).
  const answeredAt = deps.now().getTime();
  if (turn.reason !== waited?.reason) await deps.runtime.actionLog.wait(action, turn.reason);
  deps.metrics.deliveryWaits.inc({ reason: turn.reason });
  const wakeInMs = turn.booking
    ? turn.waitMs - EARLY_WAKE_MS
    : turn.waitMs + Math.random() * Math.min(turn.waitMs, WAIT_SPREAD_MS);
  const awaiting = { ...request, eventId: action.eventId, reason: turn.reason, booking: turn.booking };
  return { wait: { retryAt: new Date(answeredAt + wakeInMs), awaiting } };
}

/** Gives back an open turn's in-flight slot (advisory: its lease frees it anyway). */
export async function releaseTurn(deps: Pick<WorkerDeps, "flow">, webhookId: string, turn: GivenTurn) {
  if (turn.token) await deps.flow.release(webhookId, turn.token).catch(() => {});
}
