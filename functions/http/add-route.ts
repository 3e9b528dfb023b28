// Registers a route declared in the contract (functions/api/contract/routes.ts) on an app, with the
// checks its declaration names: path parameters, query, headers and JSON body, each through the same zod
// schema the OpenAPI document shows. The handler is typed from the declaration: `c.req.valid("json")` is
// the parsed body, and it may only answer with a status and shape the declaration lists.
//
// Why not @hono/zod-openapi's own `app.openapi()`: its validators read the body through Hono's Request
// (all of it, before any size check, and a second time as a web Request under @hono/node-server) and
// answer bad input in their own shape. tetik's readers (request.ts) refuse an oversized body before
// reading it, keep the SPEC's 400/413/415 codes and messages, and read straight from Node's request.
import type { RouteConfig, RouteHandler } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import { AppError } from "../domain/errors.ts";
import { requireScope, type Scope } from "../domain/keys/scopes.ts";
import { parseInput } from "../domain/validation.ts";
import type { App, AppEnv } from "./create-app.ts";
import { readBody, readQuery } from "./request.ts";

/** `/definitions/{id}` as Hono writes it: `/definitions/:id`. */
export const honoPath = (path: string) => path.replaceAll(/\{([^}]+)\}/g, ":$1");

function jsonBodySchema(route: RouteConfig): { schema: z.ZodType; required: boolean } | undefined {
  const body = route.request?.body;
  const media = body?.content?.["application/json"];
  const schema = media && "schema" in media ? media.schema : undefined;
  return schema ? { schema: schema as z.ZodType, required: body?.required === true } : undefined;
}

/** The declared parts of the request, checked in the order a person would fix them: path, query, headers, body. */
function validate(route: RouteConfig): MiddlewareHandler<AppEnv> {
  const { params, query, headers } = (route.request ?? {}) as {
    params?: z.ZodType;
    query?: z.ZodType;
    headers?: z.ZodObject;
  };
  const body = jsonBodySchema(route);
  // Headers by the names the declaration gives them ("Idempotency-Key"), found whatever their case.
  const headerNames = headers ? Object.keys(headers.shape) : [];
  const declaredHeaders = (c: Context) => Object.fromEntries(headerNames.map((name) => [name, c.req.header(name)]));
  return async (c, next) => {
    if (params) c.req.addValidatedData("param", parseInput(params, c.req.param(), "path") as object);
    if (query) c.req.addValidatedData("query", readQuery(c, query) as object);
    if (headers) c.req.addValidatedData("header", parseInput(headers, declaredHeaders(c), "header") as object);
    if (body) c.req.addValidatedData("json", (await readBody(c, body.schema, { optional: !body.required })) as object);
    return next();
  };
}

/**
 * The route's scopes (its security requirements, see routes.ts `allow`), checked before anything is read:
 * a key that may not call it learns nothing about what it would have answered.
 */
function authorize(route: RouteConfig): MiddlewareHandler<AppEnv> {
  const requirements = route.security ?? [];
  const allowed = requirements.flatMap((requirement) => requirement.apiKey ?? []) as Scope[];
  return async (c, next) => {
    if (requirements.length === 0) return next();
    const principal = c.get("principal");
    if (!principal) throw new AppError("unauthorized", "an Authorization: Bearer <API key> header is required");
    requireScope(principal, allowed);
    return next();
  };
}

export function addRoute<R extends RouteConfig>(app: App, route: R, handler: RouteHandler<R, AppEnv>): void {
  app.on(
    route.method.toUpperCase(),
    honoPath(route.path),
    authorize(route),
    validate(route),
    handler as unknown as MiddlewareHandler<AppEnv>,
  );
}
