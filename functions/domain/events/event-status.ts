// An event's status is the aggregate of its actions' statuses; this is the one place that decides it.
import type { Deps } from "../../platform/deps.ts";
import type { EventStatus, Prisma } from "../../platform/db.ts";

type Db = Deps["db"] | Prisma.TransactionClient;

export interface ActionState {
  kind: string;
  targetId: string;
  status: EventStatus;
  error: string | null;
}

const UNFINISHED: ReadonlySet<EventStatus> = new Set(["pending", "processing", "retrying"]);
export const isFinal = (status: EventStatus) => status === "completed" || status === "failed";

/**
 * completed: every action succeeded, or there were none. failed: all finished and one failed for good.
 * retrying: one waits for another attempt. processing: otherwise, while actions run.
 */
export function aggregateStatus(actions: ActionState[]): { status: EventStatus; error: string | null } {
  const failing = actions.filter((a) => a.status === "failed" || a.status === "retrying");
  const error = failing.length ? failing.map((a) => `${a.kind} ${a.targetId}: ${a.error ?? a.status}`).join("; ") : null;
  if (actions.some((a) => UNFINISHED.has(a.status))) {
    return { status: actions.some((a) => a.status === "retrying") ? "retrying" : "processing", error };
  }
  return { status: failing.length ? "failed" : "completed", error };
}

/** Recomputes and stores an event's status; call inside the transaction that changed an action. */
export async function refreshEventStatus(tx: Db, eventId: string, now: Date): Promise<void> {
  const [event, actions] = await Promise.all([
    tx.eventLog.findUnique({ where: { id: eventId }, select: { receivedAt: true } }),
    tx.eventAction.findMany({ where: { eventId }, select: { kind: true, targetId: true, status: true, error: true } }),
  ]);
  if (!event) return;
  const { status, error } = aggregateStatus(actions);
  const final = isFinal(status);
  await tx.eventLog.update({
    where: { id: eventId },
    data: {
      status,
      error,
      leaseExpiresAt: null,
      completedAt: final ? now : null,
      durationMs: final ? Math.max(0, now.getTime() - event.receivedAt.getTime()) : null,
    },
  });
}

/** Serialises writers of one event's aggregate for the rest of the transaction. */
export async function lockEvent(tx: Prisma.TransactionClient, eventId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM event_log WHERE id = ${eventId} FOR UPDATE`;
}

/**
 * Settles an action: `work` runs in a transaction that holds the event's row lock, so two actions of
 * one event finishing at once cannot leave a stale aggregate behind. It answers the action's new state
 * (and may write more in the same transaction), or null to change nothing. Answers whether it settled.
 */
export async function settleAction(
  db: Deps["db"],
  action: { id: string; eventId: string },
  now: Date,
  work: (tx: Prisma.TransactionClient) => Promise<Prisma.EventActionUpdateInput | null>,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await lockEvent(tx, action.eventId);
    const data = await work(tx);
    if (!data) return false;
    await tx.eventAction.update({ where: { id: action.id }, data });
    await refreshEventStatus(tx, action.eventId, now);
    return true;
  });
}

/** Fails an action for good, with a code and a reason. */
export function failAction(db: Deps["db"], action: { id: string; eventId: string }, now: Date, errorCode: string, error: string) {
  return settleAction(db, action, now, async () => ({ status: "failed", error, errorCode, nextAttemptAt: null, completedAt: now }));
}
