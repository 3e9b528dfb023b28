// What a user may send to create or change an event definition.
import { z } from "zod";
import { conditionProblems } from "../conditions/condition.ts";
import { CONTEXT_ROOTS } from "../events/event-context.ts";
import { EVENT_TYPES } from "../events/event-type.ts";
import { collectionName, jsonObject, reportProblems } from "../validation.ts";

export const conditionInput = jsonObject.superRefine((condition, ctx) =>
  reportProblems(ctx, conditionProblems(condition, { roots: CONTEXT_ROOTS })),
);

const fields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable().optional(),
  type: z.enum(EVENT_TYPES),
  collection: collectionName,
  fields: z.array(z.string().min(1).max(200)).max(100).nullable().optional(),
  condition: conditionInput.nullable().optional(),
  active: z.boolean().optional(),
};

type DefinitionShape = { type: (typeof EVENT_TYPES)[number]; fields?: string[] | null };

/** `fields` belongs to field.updated definitions, and they need at least one. */
function checkFields(definition: DefinitionShape, ctx: z.RefinementCtx) {
  const watched = definition.fields ?? [];
  if (definition.type === "field.updated" && watched.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["fields"],
      message: "a field.updated definition needs a non-empty list of fields",
    });
  }
  if (definition.type !== "field.updated" && watched.length > 0) {
    ctx.addIssue({ code: "custom", path: ["fields"], message: "fields is only for field.updated definitions" });
  }
}

export const createDefinitionInput = z.strictObject(fields).superRefine(checkFields);
export type CreateDefinitionInput = z.output<typeof createDefinitionInput>;

export const updateDefinitionInput = z.strictObject(fields).partial();
export type UpdateDefinitionInput = z.output<typeof updateDefinitionInput>;

/** A patch checked against what it would make of the definition. */
export const mergedDefinition = z
  .object({ type: z.enum(EVENT_TYPES), fields: z.array(z.string()).nullable().optional() })
  .superRefine(checkFields);
