// Which webhooks are paused (a receiver's Retry-After), as one worker process knows it: what its own
// deliveries were told at once, what the others were told within about 100 ms. Deliveries to webhooks with no
// limits ask Redis for their turn only while paused, so the plain path makes at most one extra round trip
// per process every 100 ms (when its knowledge is older than that), shared by the deliveries asking then.
import type { FlowLimiter } from "../../platform/flow-limiter.ts";

/** How long what a process knows of pauses is trusted before it reads them again. */
const FRESH_MS = 100;

export interface PausedWebhooks {
  isPaused(webhookId: string): Promise<boolean>;
  /** A pause this process set; `backedOff` when it was a 429 without Retry-After (see FlowLimiter.backOff). */
  note(webhookId: string, until: Date, backedOff?: boolean): void;
  /** Its probe was answered: its deliveries go as they come again. */
  forget(webhookId: string): void;
  /** Whether this process backed the webhook off since its last success (then it forgets it). */
  takeBackedOff(webhookId: string): boolean;
}

export function createPausedWebhooks(flow: Pick<FlowLimiter, "paused">, now: () => Date): PausedWebhooks {
  let known = new Map<string, number>();
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | undefined;
  const backedOff = new Set<string>();
  const readAgain = () =>
    (reading ??= flow
      .paused()
      .then((paused) => {
        known = new Map([...paused].map(([id, until]) => [id, until.getTime()]));
        readAt = now().getTime();
      })
      // Redis unreachable: the deliveries fail on their own; the pauses known stand.
      .catch(() => {})
      .finally(() => (reading = undefined)));
  return {
    async isPaused(webhookId) {
      if (now().getTime() - readAt >= FRESH_MS) await readAgain();
      // Paused, or past its pause and waiting for the probe's answer: either way, its deliveries ask for a turn.
      return known.has(webhookId);
    },
    forget(webhookId) {
      known.delete(webhookId);
    },
    note(webhookId, until, wasBackOff = false) {
      known.set(webhookId, Math.max(known.get(webhookId) ?? 0, until.getTime()));
      if (wasBackOff) backedOff.add(webhookId);
    },
    takeBackedOff(webhookId) {
      return backedOff.delete(webhookId);
    },
  };
}
