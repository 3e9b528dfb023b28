// Serverless entry points: each API function builds its Hono app once per Lambda instance, on first use.
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { handle } from "hono/aws-lambda";
import { config } from "../platform/config.ts";
import { createDeps, type Deps } from "../platform/deps.ts";
import type { App } from "../platform/http/create-app.ts";

let deps: Deps | undefined;

/** One Lambda instance serves one request at a time: a small pool is enough and spares the database. */
const LAMBDA_POOL_SIZE = 2;

export function apiDeps(): Deps {
  if (!deps) {
    deps = createDeps(config(), "api", LAMBDA_POOL_SIZE);
    announceAuthMode(deps);
  }
  return deps;
}

/** Without API_KEY the API is open: say so loudly, every time an instance starts. */
export function announceAuthMode({ config, log }: Pick<Deps, "config" | "log">) {
  if (config.API_KEY) log.info("API_KEY is set: every route but GET /health needs Authorization: Bearer <API_KEY>");
  else {
    log.warn(
      "API_KEY is NOT set: the API is OPEN to anyone who can reach it. This is for local development only; set API_KEY anywhere else.",
    );
  }
}

export function lambdaHandler(build: (deps: Deps) => App) {
  let handler: ReturnType<typeof handle> | undefined;
  return (event: LambdaEvent, context: LambdaContext) => {
    handler ??= handle(build(apiDeps()));
    return handler(event, context);
  };
}
