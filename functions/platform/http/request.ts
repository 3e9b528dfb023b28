// Reading requests: JSON bodies (415 if not JSON, 400 if malformed) and schema checks in the SPEC's shape.
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../../domain/errors.ts";
import { parseInput } from "../../domain/validation.ts";

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/** The JSON body, or undefined when there is none and `optional` is set. */
export async function readJson(c: Context, { optional = false } = {}): Promise<unknown> {
  const text = await c.req.text();
  if (optional && text.trim() === "") return undefined;
  if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) {
    throw new AppError("unsupported_media_type", "send a JSON body with content-type: application/json");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError("invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
}

export async function readBody<S extends z.ZodType>(c: Context, schema: S, opts?: { optional?: boolean }): Promise<z.output<S>> {
  return parseInput(schema, await readJson(c, opts));
}

export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseInput(schema, c.req.query(), "query");
}
