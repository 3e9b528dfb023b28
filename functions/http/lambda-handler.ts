// Serverless entry points: each API function builds its Hono app on an instance's first request, and
// again when its dependencies are built anew (a rotated secret), with the dependencies it needs:
// `createCoreDeps` for the functions that query through plain SQL only (their bundles then hold no ORM),
// `createDeps` (with Prisma) for the others.
// A request answered 503 because Postgres refused the password is run once more with the secrets read
// again (lambda-deps.ts): a rotation costs its callers nothing.
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { handle } from "hono/aws-lambda";
import type { CoreDeps } from "../platform/core-deps.ts";
import { isDependencyDown } from "../platform/dependency-errors.ts";
import { errorBody, RETRY_AFTER_SECONDS, type App } from "./create-app.ts";
import { lambdaDeps, type DepsFactory } from "../platform/lambda-deps.ts";

/** `keepsWebhookSecrets: false` for the functions that never store or use a webhook secret (no SECRETS_KEY). */
export function lambdaHandler<D extends CoreDeps>(
  build: (deps: D) => App,
  createDeps: DepsFactory<D>,
  { keepsWebhookSecrets = true } = {},
) {
  const deps = lambdaDeps(createDeps, "api", { servesApi: true, keepsWebhookSecrets });
  let builtFor: D | undefined;
  let handler: ReturnType<typeof handle> | undefined;
  return async (event: LambdaEvent, context: LambdaContext) => {
    try {
      // A 503 changed nothing (create-app.ts), so the request may run again: once, when it failed because
      // Postgres refused a password that a rotation has replaced since this instance read it.
      return await deps.run(
        (current) => serve(current, event, context),
        (answer) => answer.statusCode === 503,
      );
    } catch (error) {
      // No app to answer with yet (its secrets could not be read): the same 503 the app gives.
      if (!isDependencyDown(error)) throw error;
      console.warn(JSON.stringify({ level: "warn", msg: "dependency unavailable", err: (error as Error).message }));
      return {
        statusCode: 503,
        headers: { "content-type": "application/json", "retry-after": RETRY_AFTER_SECONDS },
        body: JSON.stringify(
          errorBody("service_unavailable", "a dependency (secrets) is unavailable; try again shortly"),
        ),
      };
    }
  };

  async function serve(current: D, event: LambdaEvent, context: LambdaContext) {
    if (current !== builtFor) {
      handler = handle(build(current));
      builtFor = current;
    }
    return (await handler!(event, context)) as { statusCode: number };
  }
}
