// Triggers: records a definition's events create, update or delete in another collection.
import type { Deps } from "../../platform/deps.ts";
import { Prisma } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { addToDefinition } from "../definitions/add-to-definition.ts";
import { notFound } from "../errors.ts";
import { parseInput } from "../validation.ts";
import { mergedTrigger, type CreateTriggerInput, type UpdateTriggerInput } from "./trigger-input.ts";

type Db = Deps["db"];
const json = (value: unknown) => (value == null ? Prisma.DbNull : (value as Prisma.InputJsonValue));

export async function createTrigger(db: Db, definitionId: string, input: CreateTriggerInput) {
  return addToDefinition(db, definitionId, "triggers", (tx) =>
    tx.eventTrigger.create({
      data: {
        id: newId("trg"),
        definitionId,
        action: input.action,
        targetCollection: input.targetCollection,
        filter: json(input.filter),
        data: json(input.data),
        active: input.active ?? true,
      },
    }),
  );
}

export async function getTrigger(db: Db, id: string) {
  const trigger = await db.eventTrigger.findUnique({ where: { id } });
  if (!trigger) throw notFound("trigger", id);
  return trigger;
}

export async function updateTrigger(db: Db, id: string, patch: UpdateTriggerInput) {
  const current = await getTrigger(db, id);
  parseInput(mergedTrigger, {
    action: patch.action ?? current.action,
    filter: patch.filter !== undefined ? patch.filter : current.filter,
    data: patch.data !== undefined ? patch.data : current.data,
  });
  return db.eventTrigger.update({
    where: { id },
    data: {
      action: patch.action,
      targetCollection: patch.targetCollection,
      filter: patch.filter === undefined ? undefined : json(patch.filter),
      data: patch.data === undefined ? undefined : json(patch.data),
      active: patch.active,
    },
  });
}

export async function deleteTrigger(db: Db, id: string) {
  const { count } = await db.eventTrigger.deleteMany({ where: { id } });
  if (count === 0) throw notFound("trigger", id);
}
