// Every API function is built on this app: request id, access log, auth, body limit, and errors rendered
// in the SPEC's shape. Handlers only parse, call one use case and render.
import { Hono, type Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { AppError, type ErrorCode } from "../domain/errors.ts";
import { textProblem } from "../domain/storable-json.ts";
import { isDependencyDown, rejectedInputReason } from "../platform/dependency-errors.ts";
import type { Deps } from "../platform/deps.ts";
import { dependencyOf, outageLog } from "../platform/outage-log.ts";
import { createKeyLookup } from "../domain/keys/key-lookup.ts";
import type { Principal } from "../domain/keys/scopes.ts";
import { authenticate } from "./auth.ts";
import { fromPg } from "../platform/sql.ts";
import { ClientClosed } from "./request.ts";

/** What a 503 asks a client to wait before trying again. */
export const RETRY_AFTER_SECONDS = "1";

/** What a request carries through the app: its id and who makes it (auth.ts). */
export type AppEnv = { Variables: { requestId: string; principal: Principal } };
export type App = Hono<AppEnv>;

export function errorBody(code: ErrorCode | string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

export function createApp(deps: Pick<Deps, "config" | "log"> & Partial<Pick<Deps, "pool">>): App {
  const app = new Hono<AppEnv>();
  const log = deps.log;

  app.use(requestId());
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    log.info(
      {
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      "request",
    );
  });
  const keys =
    deps.pool && createKeyLookup(fromPg(deps.pool), { onError: (err) => log.warn({ err }, "lastUsedAt not written") });
  app.use(authenticate({ apiKey: deps.config.API_KEY, metricsToken: deps.config.METRICS_TOKEN, keys }));
  // Routes are literals and ids: a path that holds what no id can (a NUL, a lone surrogate) names
  // nothing that exists. The SPEC: an id that does not exist, whatever its form, is a 404.
  app.use(async (c, next) => {
    if (textProblem(c.req.path))
      throw new AppError("not_found", "no such resource (the path holds characters no id can)");
    return next();
  });
  // Bodies are read (and limited to LIMITS.bodyBytes) by readJson, the only reader of request bodies.

  app.notFound((c) => c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((error, c) => renderError(error, c, deps));
  return app;
}

function renderError(error: unknown, c: Context<AppEnv>, deps: Pick<Deps, "log">) {
  if (error instanceof AppError) {
    // A 503 the domain raised (a share of the pool is busy) passes as an outage does: nothing changed, try later.
    if (error.status === 503) c.header("retry-after", RETRY_AFTER_SECONDS);
    return c.json(errorBody(error.code, error.message, error.details), error.status as 400);
  }
  if (error instanceof HTTPException) {
    return c.json(errorBody(error.status === 401 ? "unauthorized" : "invalid_request", error.message), error.status);
  }
  const requestId = c.get("requestId");
  if (error instanceof ClientClosed) {
    deps.log.info({ requestId, method: c.req.method, path: c.req.path }, error.message);
    return c.json(errorBody("invalid_request", error.message), 400);
  }
  const refused = rejectedInputReason(error);
  if (refused !== undefined) {
    // Input checks at the edge should have caught it; logged so the check that missed it can be added.
    deps.log.warn(
      { err: error, requestId, method: c.req.method, path: c.req.path },
      "the database refused a value of the request",
    );
    return c.json(
      errorBody("invalid_request", `the database cannot store or process a value of this request: ${refused}`),
      400,
    );
  }
  if (isDependencyDown(error)) {
    // Said when it goes, then at a bounded rate, not once per request (outage-log.ts).
    outageLog(deps.log).down(dependencyOf(error), error);
    // Nothing was changed: a client may try again, and is told when (the typed client waits this long).
    c.header("retry-after", RETRY_AFTER_SECONDS);
    return c.json(
      errorBody("service_unavailable", "a dependency (database or queue) is unavailable; try again shortly"),
      503,
    );
  }
  deps.log.error({ err: error, requestId, method: c.req.method, path: c.req.path }, "unhandled error");
  return c.json(errorBody("internal_error", `internal error (request ${requestId})`), 500);
}
