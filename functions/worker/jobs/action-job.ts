// The run-action job: one later run of one action; when it is to run again, the job waits for that time
// (carrying the turn it waits for, if it waits under flow control).
import type { WorkerDeps } from "../../domain/delivery/kinds/runtime.ts";
import { runAction } from "../../domain/delivery/run-action.ts";
import type { ConsumedJob } from "../consumer.ts";

export async function actionJob(deps: WorkerDeps, job: ConsumedJob<"run-action">): Promise<void> {
  const { actionId, awaiting } = job.data;
  const next = await runAction(deps, actionId, awaiting);
  if (next.retryAt) await job.defer(next.retryAt, { actionId, awaiting: next.awaiting });
}
