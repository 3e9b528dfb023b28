// With API_KEY set, every route but GET /health (and HEAD /health, its header-only twin) needs
// `Authorization: Bearer <API_KEY>`.
import { timingSafeEqual, createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../domain/errors.ts";

const digest = (value: string) => createHash("sha256").update(value).digest();

export function bearerAuth(apiKey: string | undefined): MiddlewareHandler {
  const expected = apiKey === undefined ? undefined : digest(apiKey);
  return async (c, next) => {
    if (!expected || ((c.req.method === "GET" || c.req.method === "HEAD") && c.req.path === "/health")) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Compare digests so the comparison takes the same time whatever the key's length.
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new AppError("unauthorized", header ? "the API key is wrong" : "an Authorization: Bearer <API_KEY> header is required");
    }
    return next();
  };
}
