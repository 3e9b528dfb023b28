// Triggers: records a definition's events create, update or delete in another collection.
import type { Deps } from "../../platform/deps.ts";
import { Prisma } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { audited, type Actor } from "../audit/audited.ts";
import { addToDefinition } from "../definitions/add-to-definition.ts";
import type { ChangeDeps } from "../definitions/definitions.ts";
import { notFound } from "../errors.ts";
import { publicTrigger } from "../public-views.ts";
import { parseInput } from "../validation.ts";
import { mergedTrigger, type CreateTriggerInput, type UpdateTriggerInput } from "./trigger-input.ts";

type Db = Deps["db"];
const json = (value: unknown) => (value == null ? Prisma.DbNull : (value as Prisma.InputJsonValue));

export async function createTrigger(deps: ChangeDeps, definitionId: string, input: CreateTriggerInput, actor: Actor) {
  return audited(deps, actor, async (tx) => {
    const trigger = await addToDefinition(tx, definitionId, "triggers", (tx) =>
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
    const target = { kind: "trigger" as const, id: trigger.id };
    return {
      result: trigger,
      entry: { action: "trigger.create", target, before: null, after: publicTrigger(trigger) },
    };
  });
}

export async function getTrigger(db: Db | Prisma.TransactionClient, id: string) {
  const trigger = await db.eventTrigger.findUnique({ where: { id } });
  if (!trigger) throw notFound("trigger", id);
  return trigger;
}

export async function updateTrigger(deps: ChangeDeps, id: string, patch: UpdateTriggerInput, actor: Actor) {
  return audited(deps, actor, async (tx) => {
    const current = await getTrigger(tx, id);
    parseInput(mergedTrigger, {
      action: patch.action ?? current.action,
      filter: patch.filter !== undefined ? patch.filter : current.filter,
      data: patch.data !== undefined ? patch.data : current.data,
    });
    const trigger = await tx.eventTrigger.update({
      where: { id },
      data: {
        action: patch.action,
        targetCollection: patch.targetCollection,
        filter: patch.filter === undefined ? undefined : json(patch.filter),
        data: patch.data === undefined ? undefined : json(patch.data),
        active: patch.active,
      },
    });
    const [before, after] = [publicTrigger(current), publicTrigger(trigger)];
    return { result: trigger, entry: { action: "trigger.update", target: { kind: "trigger", id }, before, after } };
  });
}

export async function deleteTrigger(deps: ChangeDeps, id: string, actor: Actor) {
  await audited(deps, actor, async (tx) => {
    const current = await getTrigger(tx, id);
    const { count } = await tx.eventTrigger.deleteMany({ where: { id } });
    if (count === 0) throw notFound("trigger", id);
    const before = publicTrigger(current);
    return {
      result: undefined,
      entry: { action: "trigger.delete", target: { kind: "trigger", id }, before, after: null },
    };
  });
}
