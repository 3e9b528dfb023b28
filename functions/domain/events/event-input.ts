// What a source may report about a change.
import { z } from "zod";
import { LIMITS } from "../limits.ts";
import { collectionName, isoDateTime, jsonObject, writableCollection } from "../validation.ts";
import { INGEST_TYPES } from "./event-type.ts";

export const MAX_BATCH = 1000;

/**
 * A record id: any text a path can carry back. "." and ".." cannot: URLs resolve them away, so a record
 * with such an id could be created and never read, changed or deleted again.
 */
export const recordIdText = z
  .string()
  .min(1)
  .max(255)
  .refine((id) => id !== "." && id !== "..", 'cannot be "." or ".." (a URL path resolves them away)');

const eventFields = {
  type: z.enum(INGEST_TYPES),
  collection: collectionName,
  recordId: z.union([recordIdText, z.number().int().transform(String)]),
  data: jsonObject.default({}),
  previous: jsonObject.nullable().optional(),
  occurredAt: isoDateTime.optional(),
};

/** What a source may report: a change in any collection but tetik's own (its operational events). */
export const eventInput = z.strictObject({ ...eventFields, collection: writableCollection });

/** An event as definitions may see it, tetik's operational events included: a dry run's would-be event. */
export const seenEventInput = z.strictObject(eventFields);
export type EventInput = z.output<typeof eventInput>;

export const batchInput = z.strictObject({
  events: z.array(eventInput).min(1).max(MAX_BATCH, `at most ${MAX_BATCH} events per batch`),
});

export const idempotencyKey = z
  .string()
  .min(1)
  .max(LIMITS.idempotencyKeyLength)
  .regex(/^[\x20-\x7E]+$/, "must be printable ASCII")
  .optional();
