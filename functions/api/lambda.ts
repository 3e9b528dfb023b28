// Serverless entry points: each API function builds its Hono app once per Lambda instance, on first use.
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { handle } from "hono/aws-lambda";
import { config } from "../platform/config.ts";
import { announceSecurity } from "../platform/announce-security.ts";
import { createDeps, type Deps } from "../platform/deps.ts";
import type { App } from "../platform/http/create-app.ts";

let deps: Deps | undefined;

/** One Lambda instance serves one request at a time: a small pool is enough and spares the database. */
const LAMBDA_POOL_SIZE = 2;

export function apiDeps(): Deps {
  if (!deps) {
    deps = createDeps(config(), "api", LAMBDA_POOL_SIZE);
    announceSecurity(deps);
  }
  return deps;
}

export function lambdaHandler(build: (deps: Deps) => App) {
  let handler: ReturnType<typeof handle> | undefined;
  return (event: LambdaEvent, context: LambdaContext) => {
    handler ??= handle(build(apiDeps()));
    return handler(event, context);
  };
}
