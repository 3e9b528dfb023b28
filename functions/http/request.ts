// Reading requests: JSON bodies (413 over 1 MiB, 415 if not JSON, 400 if malformed) and schema checks in
// the SPEC's shape.
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../domain/errors.ts";
import { formatBytes, LIMITS } from "../domain/limits.ts";
import { storableJsonProblem, textProblem } from "../domain/storable-json.ts";
import { parseInput } from "../domain/validation.ts";

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

export const MAX_BODY_BYTES = LIMITS.bodyBytes;

/** The client closed its connection before its request's body arrived: no one is left to answer. */
export class ClientClosed extends Error {
  constructor() {
    super("the client closed its connection before sending the whole request body");
    this.name = "ClientClosed";
  }
}

const tooLarge = () => new AppError("payload_too_large", `the request body is over ${formatBytes(MAX_BODY_BYTES)}`);

/**
 * The body as text, refused past MAX_BODY_BYTES without reading further. Under @hono/node-server it is
 * read straight from Node's request: building a web Request for it costs more than the rest of ingestion.
 */
async function readText(c: Context): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) {
    const text = await c.req.text();
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw tooLarge();
    return text;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of incoming as AsyncIterable<Buffer>) {
      size += chunk.length;
      // The rest is left unread; Node discards it after the 413 has been sent.
      if (size > MAX_BODY_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    // Node's "aborted" (ECONNRESET) is the client's doing, not a dependency's: no 503, no outage logged.
    if (incoming.errored && !incoming.complete) throw new ClientClosed();
    throw error;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The JSON body, or undefined when there is none and `optional` is set. */
export async function readJson(c: Context, { optional = false } = {}): Promise<unknown> {
  const text = await readText(c);
  if (optional && text.trim() === "") return undefined;
  if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) {
    throw new AppError("unsupported_media_type", "send a JSON body with content-type: application/json");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError("invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
  const problem = storableJsonProblem(value);
  if (problem) throw new AppError("invalid_request", `${problem.path}: ${problem.message}`, [problem]);
  return value;
}

/** The body checked against `schema`; with `optional`, no body at all is undefined (and not checked). */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  opts?: { optional?: boolean },
): Promise<z.output<S>> {
  const value = await readJson(c, opts);
  if (value === undefined && opts?.optional) return undefined as z.output<S>;
  return parseInput(schema, value);
}

export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const query = c.req.query();
  for (const [name, value] of Object.entries(query)) {
    const problem = textProblem(name) ?? textProblem(value);
    if (problem) throw new AppError("invalid_request", `${name}: ${problem}`, [{ path: name, message: problem }]);
  }
  return parseInput(schema, query, "query");
}
