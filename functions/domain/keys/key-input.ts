// What POST /keys takes.
import { z } from "zod";
import { collectionName, isoDateTime } from "../validation.ts";
import { SCOPES } from "./scopes.ts";

export const createKeyInput = z.strictObject({
  name: z.string().min(1).max(200).meta({ description: "who or what uses the key", example: "orders-service" }),
  scopes: z
    .array(z.enum(SCOPES))
    .min(1)
    .max(SCOPES.length)
    .meta({ description: "what the key may do (admin: everything)", example: ["ingest"] }),
  collections: z
    .array(collectionName)
    .max(100)
    .optional()
    .meta({ description: "for ingest: the only collections it may write to (empty or absent: any)" }),
  expiresAt: isoDateTime
    .transform((text) => new Date(text))
    .nullable()
    .optional()
    .meta({ description: "when the key stops working (absent or null: never)" }),
});
export type CreateKeyInput = z.output<typeof createKeyInput>;
