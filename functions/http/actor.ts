// Who makes a request's changes, for the audit trail: the principal auth found (or the dashboard's
// session set) and the request's id.
import type { Context } from "hono";
import type { Actor } from "../domain/audit/audit-entry.ts";
import type { AppEnv } from "./create-app.ts";

export function actorOf(c: Context<AppEnv>): Actor {
  return { principal: c.get("principal"), requestId: c.get("requestId") ?? null };
}
