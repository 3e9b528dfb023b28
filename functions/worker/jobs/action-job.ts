// The run-action job: one later run of one action; when it is to run again, the job waits for that time.
import type { WorkerDeps } from "../../domain/delivery/kinds/runtime.ts";
import { runAction } from "../../domain/delivery/run-action.ts";
import type { ConsumedJob } from "../consumer.ts";

export async function actionJob(deps: WorkerDeps, job: ConsumedJob<"run-action">): Promise<void> {
  const { retryAt } = await runAction(deps, job.data.actionId);
  if (retryAt) await job.defer(retryAt);
}
