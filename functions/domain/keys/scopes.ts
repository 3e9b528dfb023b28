// Who may do what. A request is made by a principal: the bootstrap API_KEY (every scope), a key made
// through the API (its scopes, and for `ingest` optionally only some collections), or nobody in particular
// when the server has no API_KEY (open, as in development). The routes say which scopes may call them
// (functions/api/contract/scopes.ts); `admin` may call everything.
import { AppError } from "../errors.ts";

export const SCOPES = ["admin", "config", "ingest", "read", "replay"] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** The key's id; null for API_KEY, or when the server has none. */
  keyId: string | null;
  keyName: string;
  scopes: readonly Scope[];
  /** For `ingest`: the only collections it may write to; empty means any. */
  collections: readonly string[];
}

export const BOOTSTRAP_KEY: Principal = { keyId: null, keyName: "API_KEY", scopes: ["admin"], collections: [] };
/** A server without API_KEY: everything is open, and the audit trail says so. */
export const NO_KEY: Principal = { keyId: null, keyName: "(no API_KEY set)", scopes: ["admin"], collections: [] };

/** Whether `principal` may call something open to `allowed` (admin may call anything). */
export function mayUse(principal: Principal, allowed: readonly Scope[]): boolean {
  return principal.scopes.includes("admin") || allowed.some((scope) => principal.scopes.includes(scope));
}

export function requireScope(principal: Principal, allowed: readonly Scope[]): void {
  if (mayUse(principal, allowed)) return;
  // A route's security lists admin among its alternatives already: named once.
  const needs = [...new Set<Scope>(["admin", ...allowed])];
  throw new AppError(
    "insufficient_scope",
    `the key "${principal.keyName}" has the scopes ${principal.scopes.join(", ")}; this needs ` +
      `${needs.length > 1 ? "one of " : ""}${needs.join(", ")}`,
    { needs, has: principal.scopes },
  );
}

/** An `ingest` key limited to some collections may write only to those. */
export function requireCollection(principal: Principal, collection: string): void {
  if (principal.scopes.includes("admin") || principal.collections.length === 0) return;
  if (principal.collections.includes(collection)) return;
  throw new AppError(
    "insufficient_scope",
    `the key "${principal.keyName}" may write to ${principal.collections.join(", ")} only, not to ${collection}`,
    { collection, collections: principal.collections },
  );
}
