// Serverless function "migrate": a CloudFormation custom resource (infra/aws/migrations.yml). On every
// deploy whose migrations changed, CloudFormation runs it after the database is ready and before the API
// functions and the worker service are updated (they depend on it): the schema is never older than the
// code. Old code meets the new schema for the minutes of the rolling update, so migrations must keep
// working for it (add, then use, then drop: see README, Migrations). It connects as the master user and
// gives the role tetik_app, which everything else connects as, its password from that role's secret.
//
// It answers CloudFormation by PUTting the outcome to the pre-signed URL of the request; an answer that
// never comes would leave the stack waiting (ServiceTimeout in migrations.yml), so every failure is
// answered too, and so is a run that would outlast the function: everything it waits on stops in time.
// A `-- tetik:run-as-task` migration is not started here: the run stops before it, answers SUCCESS and
// says what is left for the one-off task (infra/run-migrations.sh).
//
// Invoked directly (`aws lambda invoke`, no ResponseURL: after putting a new password into the app role's
// secret), it does the same and answers the outcome itself.
import { awsSecretsLoader } from "../platform/aws-secrets.ts";
import { loadConfig } from "../platform/config.ts";
import { applyMigrations, type MigrationRun } from "../platform/migrate.ts";
import { terminal, waitForPostgres } from "../platform/wait-for-services.ts";

interface CustomResourceEvent {
  RequestType: "Create" | "Update" | "Delete";
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
}

const PHYSICAL_ID = "tetik-migrations";
/** Kept for answering CloudFormation after the work stopped. */
const ANSWER_MS = 15_000;
/** When no Lambda context says how long is left (a direct call): the function's own timeout. */
const DEFAULT_REMAINING_MS = 300_000;

interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

type Outcome = { ok: true; run: MigrationRun } | { ok: false; reason: string };

function summary(outcome: Outcome): string {
  if (!outcome.ok) return outcome.reason.slice(0, 1000);
  const { applied, leftForTask } = outcome.run;
  const left = leftForTask.length
    ? `; left for the one-off task (infra/run-migrations.sh): ${leftForTask.join(", ")}`
    : "";
  return `applied: ${applied.join(", ") || "nothing (up to date)"}${left}`;
}

async function answer(event: CustomResourceEvent, outcome: Outcome) {
  const body = JSON.stringify({
    Status: outcome.ok ? "SUCCESS" : "FAILED",
    Reason: summary(outcome),
    PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_ID,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: outcome.ok ? { Applied: outcome.run.applied.length, LeftForTask: outcome.run.leftForTask.length } : {},
  });
  // The pre-signed URL takes a PUT with no content type; an empty one stops fetch from adding its own.
  const res = await fetch(event.ResponseURL, {
    method: "PUT",
    headers: { "content-type": "" },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`CloudFormation's response URL answered ${res.status}`);
}

/** What a direct invocation sends: nothing needed. */
type DirectInvocation = { ResponseURL?: undefined };

export async function handler(
  event: CustomResourceEvent | DirectInvocation,
  context?: LambdaContextLike,
): Promise<{ ok: boolean; summary: string } | undefined> {
  const fromCloudFormation = (e: typeof event): e is CustomResourceEvent => e.ResponseURL !== undefined;
  // Deleting the stack deletes the database too (or keeps its snapshot): the schema is left as it is.
  if (fromCloudFormation(event) && event.RequestType === "Delete")
    return void (await answer(event, { ok: true, run: { applied: [], leftForTask: [] } }));
  const deadline = Date.now() + (context?.getRemainingTimeInMillis() ?? DEFAULT_REMAINING_MS) - ANSWER_MS;
  let outcome: Outcome;
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error("the migrations did not finish in the function's time")),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    outcome = { ok: true, run: await Promise.race([migrate(deadline), outOfTime]) };
    console.log(JSON.stringify({ msg: "migrations applied", ...outcome.run }));
  } catch (error) {
    outcome = { ok: false, reason: (error as Error).message };
    console.error(JSON.stringify({ msg: "migrations failed", err: outcome.reason }));
  } finally {
    clearTimeout(timer);
  }
  if (fromCloudFormation(event)) return void (await answer(event, outcome));
  return { ok: outcome.ok, summary: summary(outcome) };
}

async function migrate(deadline: number): Promise<MigrationRun> {
  await awsSecretsLoader().refresh();
  const { DATABASE_URL: url, APP_DATABASE_PASSWORD } = loadConfig();
  // RDS Proxy may refuse connections for a while after its target registers: wait for it, in time.
  await waitForPostgres(url, { waitMs: Math.max(0, deadline - Date.now() - 5_000), log: terminal });
  // RDS creates the database (DBName): only its tables are tetik's to make.
  return applyMigrations(url, undefined, {
    create: false,
    deadline,
    stopBeforeTask: true,
    appRolePassword: APP_DATABASE_PASSWORD,
  });
}
