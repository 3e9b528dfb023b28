// What a dashboard session's key may see and press. Every page and button stands for an API route, and is
// offered to exactly the keys that route lets in (its `security` in the contract): the dashboard cannot
// grant what the API refuses, nor hide what it allows. A POST the key may not make is refused with the
// API's 403 insufficient_scope before its form is read, and changes nothing.
import type { RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { allRoutes } from "../api/contract/routes.ts";
import { mayUse, requireScope, type Principal, type Scope } from "../domain/keys/scopes.ts";
import type { AppEnv } from "../http/create-app.ts";

/** The dashboard's pages and actions, each with the API route it stands for. */
const STANDS_FOR = {
  // Reading pages: the overview and the event log as the event routes, config pages as their list routes.
  overview: allRoutes.listEvents,
  events: allRoutes.listEvents,
  definitions: allRoutes.listDefinitions,
  webhooks: allRoutes.listWebhooks,
  toggleDefinition: allRoutes.updateDefinition,
  dryRun: allRoutes.dryRunDefinition,
  toggleWebhook: allRoutes.updateWebhook,
  rotateSecret: allRoutes.rotateSecret,
  testWebhook: allRoutes.testWebhook,
  replay: allRoutes.replayEvent,
  keys: allRoutes.listKeys,
  createKey: allRoutes.createKey,
  revokeKey: allRoutes.revokeKey,
  audit: allRoutes.listAudit,
} satisfies Record<string, RouteConfig>;

export type DashboardAction = keyof typeof STANDS_FOR;
/** For each page and action, whether the session's key may use it: what pages show buttons and links by. */
export type Allowed = Record<DashboardAction, boolean>;

/** The scopes a route lets in besides admin (as add-route.ts reads its security requirements). */
const scopesOf = (route: RouteConfig): Scope[] =>
  (route.security ?? []).flatMap((requirement) => requirement.apiKey ?? []) as Scope[];

/** What `principal` may use; nothing for nobody (before sign-in). */
export function allowed(principal: Principal | undefined): Allowed {
  return Object.fromEntries(
    Object.entries(STANDS_FOR).map(([action, route]) => [
      action,
      principal !== undefined && mayUse(principal, scopesOf(route)),
    ]),
  ) as Allowed;
}

/** Refuses (403 insufficient_scope, in the API's words) a request the session's key may not make. */
export function requireAllowed(action: DashboardAction): MiddlewareHandler<AppEnv> {
  const scopes = scopesOf(STANDS_FOR[action]);
  return async (c, next) => {
    requireScope(c.get("principal"), scopes);
    return next();
  };
}
