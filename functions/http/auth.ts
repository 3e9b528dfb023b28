// With API_KEY set, every route needs `Authorization: Bearer <API_KEY>` but those that reveal no data:
// GET /health, and the API's description (GET /openapi.json, GET /docs and the page's files); HEAD too.
import { timingSafeEqual, createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../domain/errors.ts";

const isOpen = (path: string) =>
  path === "/health" || path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/");

export const digest = (value: string) => createHash("sha256").update(value).digest();

/** Whether two secrets are equal, in the same time whatever their lengths (digests are compared). */
export const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** The dashboard signs people in with the key and then uses its own session cookie (functions/dashboard/session.ts). */
const hasOwnSession = (path: string) => path === "/dashboard" || path.startsWith("/dashboard/");

export function bearerAuth(apiKey: string | undefined, metricsToken?: string): MiddlewareHandler {
  const expected = apiKey === undefined ? undefined : digest(apiKey);
  const metrics = metricsToken === undefined ? undefined : digest(metricsToken);
  return async (c, next) => {
    const path = c.req.path;
    const reading = c.req.method === "GET" || c.req.method === "HEAD";
    if ((reading && isOpen(path)) || hasOwnSession(path)) return next();
    // GET /metrics takes the API key or METRICS_TOKEN; without either it is as open as the API.
    const accepted =
      reading && path === "/metrics" ? [expected, metrics].filter((d) => d !== undefined) : expected ? [expected] : [];
    if (accepted.length === 0) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Compare digests so the comparison takes the same time whatever the key's length.
    const given = match?.[1] ? digest(match[1]) : undefined;
    if (!given || !accepted.some((d) => timingSafeEqual(given, d))) {
      throw new AppError(
        "unauthorized",
        header ? "the API key is wrong" : "an Authorization: Bearer <API_KEY> header is required",
      );
    }
    return next();
  };
}
