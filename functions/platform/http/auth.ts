// With API_KEY set, every route needs `Authorization: Bearer <API_KEY>` but those that reveal no data:
// GET /health, and the API's description (GET /openapi.json, GET /docs and the page's files); HEAD too.
import { timingSafeEqual, createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../domain/errors.ts";

const isOpen = (path: string) => path === "/health" || path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/");

const digest = (value: string) => createHash("sha256").update(value).digest();

export function bearerAuth(apiKey: string | undefined): MiddlewareHandler {
  const expected = apiKey === undefined ? undefined : digest(apiKey);
  return async (c, next) => {
    if (!expected || ((c.req.method === "GET" || c.req.method === "HEAD") && isOpen(c.req.path))) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Compare digests so the comparison takes the same time whatever the key's length.
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new AppError("unauthorized", header ? "the API key is wrong" : "an Authorization: Bearer <API_KEY> header is required");
    }
    return next();
  };
}
