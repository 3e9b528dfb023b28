// Serverless entry points: each API function builds its Hono app once per Lambda instance, on first use,
// with the dependencies it needs: `createCoreDeps` for the functions that query through plain SQL only
// (their bundles then hold no ORM), `createDeps` (with Prisma) for the others.
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { handle } from "hono/aws-lambda";
import { announceSecurity } from "../platform/announce-security.ts";
import { config, type Config } from "../platform/config.ts";
import type { CoreDeps } from "../platform/core-deps.ts";
import type { App } from "../platform/http/create-app.ts";

/** One Lambda instance serves one request at a time: a small pool is enough and spares the database. */
const LAMBDA_POOL_SIZE = 2;

export function lambdaHandler<D extends CoreDeps>(build: (deps: D) => App, createDeps: (config: Config, component: string, poolSize: number) => D) {
  let handler: ReturnType<typeof handle> | undefined;
  return (event: LambdaEvent, context: LambdaContext) => {
    if (!handler) {
      const deps = createDeps(config(), "api", LAMBDA_POOL_SIZE);
      announceSecurity(deps);
      handler = handle(build(deps));
    }
    return handler(event, context);
  };
}
