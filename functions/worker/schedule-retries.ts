// Puts actions' next attempts on the queue, at the times delivery decided (domain/delivery/next-attempt.ts;
// the same times are the actions' nextAttemptAt in Postgres, from which the sweep recreates a lost one).
// Each waits in BullMQ's delayed set under its action's id, so one action has one job at a time.
import { DelayedError, type Job } from "bullmq";
import type { Retry } from "../domain/delivery/process-event.ts";
import type { WorkerDeps } from "../domain/delivery/pipeline.ts";

/** Retries of actions that have no job of their own yet (first attempts made by a process-events job). */
export async function scheduleRetries(deps: Pick<WorkerDeps, "queue" | "now">, retries: Retry[]): Promise<void> {
  const now = deps.now().getTime();
  await deps.queue.add(
    "run-action",
    retries.map((r) => ({ id: r.actionId, data: { actionId: r.actionId }, delayMs: r.at.getTime() - now })),
  );
}

/**
 * The retry of the action the running job carries: the job itself waits until `at` (a new job under the
 * same id could not be added while this one exists). Throws BullMQ's DelayedError, which ends the run.
 */
export async function deferJob(job: Job, token: string | undefined, at: Date): Promise<never> {
  await job.moveToDelayed(at.getTime(), token);
  throw new DelayedError();
}
