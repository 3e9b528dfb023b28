// Who is calling. With API_KEY set, every route needs `Authorization: Bearer <key>` but those that reveal no
// data: GET /health, and the API's description (GET /openapi.json, GET /docs and the page's files); HEAD
// too. The key is API_KEY (every scope), a key made through POST /keys (its scopes), or for GET /metrics
// METRICS_TOKEN. The principal found is kept on the request; each route then checks its scopes
// (add-route.ts). Without API_KEY the API is open: every request acts with every scope.
import { timingSafeEqual, createHash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../domain/errors.ts";
import { looksLikeKey } from "../domain/keys/api-keys.ts";
import type { KeyLookup } from "../domain/keys/key-lookup.ts";
import { BOOTSTRAP_KEY, NO_KEY, type Principal } from "../domain/keys/scopes.ts";

const isOpen = (path: string) =>
  path === "/health" || path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/");

export const digest = (value: string) => createHash("sha256").update(value).digest();

/** Whether two secrets are equal, in the same time whatever their lengths (digests are compared). */
export const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** The dashboard signs people in with a key and then uses its own session cookie (functions/dashboard/session.ts). */
const hasOwnSession = (path: string) => path === "/dashboard" || path.startsWith("/dashboard/");

/** METRICS_TOKEN reads the metrics and nothing else. */
const METRICS_READER: Principal = { keyId: null, keyName: "METRICS_TOKEN", scopes: ["read"], collections: [] };

export interface AuthOptions {
  apiKey?: string;
  metricsToken?: string;
  /** Finds keys made through POST /keys; without it (a function that reaches no database) only API_KEY works. */
  keys?: KeyLookup;
}

/** The principal of a bearer key, or undefined when no key matches. */
export function keyResolver({ apiKey, metricsToken, keys }: AuthOptions) {
  const expected = apiKey === undefined ? undefined : digest(apiKey);
  const metrics = metricsToken === undefined ? undefined : digest(metricsToken);
  return async (given: string, { metricsRoute = false } = {}): Promise<Principal | undefined> => {
    // Digests compared, so the comparison takes the same time whatever the key's length.
    const givenDigest = digest(given);
    if (expected && timingSafeEqual(givenDigest, expected)) return BOOTSTRAP_KEY;
    if (metricsRoute && metrics && timingSafeEqual(givenDigest, metrics)) return METRICS_READER;
    if (keys && looksLikeKey(given)) return keys.find(given);
    return undefined;
  };
}

export function authenticate(options: AuthOptions): MiddlewareHandler<{ Variables: { principal: Principal } }> {
  const resolve = keyResolver(options);
  return async (c, next) => {
    const path = c.req.path;
    const reading = c.req.method === "GET" || c.req.method === "HEAD";
    if ((reading && isOpen(path)) || hasOwnSession(path)) return next();
    if (options.apiKey === undefined) {
      c.set("principal", NO_KEY);
      return next();
    }
    const header = c.req.header("authorization") ?? "";
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1];
    const principal = given ? await resolve(given, { metricsRoute: reading && path === "/metrics" }) : undefined;
    if (!principal) throw unauthorized(c, header);
    c.set("principal", principal);
    return next();
  };
}

function unauthorized(c: Context, header: string) {
  c.header("www-authenticate", 'Bearer realm="tetik"');
  return new AppError(
    "unauthorized",
    !header
      ? "an Authorization: Bearer <API key> header is required"
      : /^Bearer\s/i.test(header)
        ? "the API key is wrong, revoked or expired"
        : "send the API key as Authorization: Bearer <API key>",
  );
}
