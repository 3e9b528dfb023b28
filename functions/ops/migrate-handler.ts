// Serverless function "migrate": a CloudFormation custom resource (infra/aws/migrations.yml). On every
// deploy whose migrations changed, CloudFormation runs it after the database is ready and before the API
// functions and the worker service are updated (they depend on it): the schema is never older than the
// code. Old code meets the new schema for the minutes of the rolling update, so migrations must keep
// working for it (add, then use, then drop: see README, Migrations).
//
// It answers CloudFormation by PUTting the outcome to the pre-signed URL of the request; an answer that
// never comes would leave the stack waiting an hour, so every failure is answered too.
import { awsSecretsLoader } from "../platform/aws-secrets.ts";
import { loadConfig } from "../platform/config.ts";
import { applyMigrations } from "../platform/migrate.ts";

interface CustomResourceEvent {
  RequestType: "Create" | "Update" | "Delete";
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
}

const PHYSICAL_ID = "tetik-migrations";

async function answer(event: CustomResourceEvent, outcome: { ok: true; applied: string[] } | { ok: false; reason: string }) {
  const body = JSON.stringify({
    Status: outcome.ok ? "SUCCESS" : "FAILED",
    Reason: outcome.ok ? `applied: ${outcome.applied.join(", ") || "nothing (up to date)"}` : outcome.reason.slice(0, 1000),
    PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_ID,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: outcome.ok ? { Applied: outcome.applied.length } : {},
  });
  // The pre-signed URL takes a PUT with no content type; an empty one stops fetch from adding its own.
  const res = await fetch(event.ResponseURL, { method: "PUT", headers: { "content-type": "" }, body, signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`CloudFormation's response URL answered ${res.status}`);
}

export async function handler(event: CustomResourceEvent): Promise<void> {
  // Deleting the stack deletes the database too (or keeps its snapshot): the schema is left as it is.
  if (event.RequestType === "Delete") return answer(event, { ok: true, applied: [] });
  let outcome: Parameters<typeof answer>[1];
  try {
    await awsSecretsLoader().refresh();
    // RDS creates the database (DBName): only its tables are tetik's to make.
    outcome = { ok: true, applied: await applyMigrations(loadConfig().DATABASE_URL, undefined, { create: false }) };
    console.log(JSON.stringify({ msg: "migrations applied", applied: outcome.applied }));
  } catch (error) {
    outcome = { ok: false, reason: (error as Error).message };
    console.error(JSON.stringify({ msg: "migrations failed", err: outcome.reason }));
  }
  await answer(event, outcome);
}
