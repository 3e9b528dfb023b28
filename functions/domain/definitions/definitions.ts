// Event definitions: which changes of which collection matter, under what condition.
import type { Deps } from "../../platform/deps.ts";
import { Prisma } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { audited, type Actor, type AuditDeps } from "../audit/audited.ts";
import { AppError, notFound } from "../errors.ts";
import { publicDefinition, publicTrigger, publicWebhook } from "../public-views.ts";
import { toDbEventType, toPublicEventType } from "../events/event-type.ts";
import { parseInput, toPage, type ListQuery } from "../validation.ts";
import { mergedDefinition, type CreateDefinitionInput, type UpdateDefinitionInput } from "./definition-input.ts";

type Db = Deps["db"];
/** What a change of configuration needs: the database, and the audit trail's clock and queue. */
export type ChangeDeps = AuditDeps & Pick<Deps, "db" | "config">;

const jsonOrNull = (value: unknown) => (value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue));

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

function nameTaken(name: string) {
  return new AppError("conflict", `a definition named "${name}" already exists`);
}

export async function createDefinition(deps: ChangeDeps, input: CreateDefinitionInput, actor: Actor) {
  return audited(deps, actor, async (tx) => {
    try {
      const definition = await tx.eventDefinition.create({
        data: {
          id: newId("def"),
          name: input.name,
          description: input.description ?? null,
          type: toDbEventType(input.type),
          collection: input.collection,
          fields: input.fields ?? [],
          condition: input.condition ? (input.condition as Prisma.InputJsonValue) : Prisma.DbNull,
          active: input.active ?? true,
        },
      });
      const target = { kind: "definition" as const, id: definition.id };
      const after = publicDefinition(definition);
      return { result: definition, entry: { action: "definition.create", target, before: null, after } };
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(input.name);
      throw error;
    }
  });
}

export async function getDefinition(db: Db, id: string) {
  const definition = await db.eventDefinition.findUnique({
    where: { id },
    include: { triggers: { orderBy: { id: "asc" } }, webhooks: { orderBy: { id: "asc" } } },
  });
  if (!definition) throw notFound("definition", id);
  return definition;
}

export async function listDefinitions(db: Db, { limit, cursor }: ListQuery) {
  const rows = await db.eventDefinition.findMany({
    where: cursor ? { id: { lt: cursor } } : undefined,
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  return toPage(rows, limit, (row) => row);
}

export async function updateDefinition(deps: ChangeDeps, id: string, patch: UpdateDefinitionInput, actor: Actor) {
  return audited(deps, actor, async (tx) => {
    const current = await tx.eventDefinition.findUnique({ where: { id } });
    if (!current) throw notFound("definition", id);
    const type = patch.type ?? toPublicEventType(current.type);
    // Changing the type away from field.updated drops the watched fields unless the patch sets them.
    const fields = patch.fields !== undefined ? patch.fields : type === "field.updated" ? current.fields : [];
    parseInput(mergedDefinition, { type, fields });
    try {
      const definition = await tx.eventDefinition.update({
        where: { id },
        data: {
          name: patch.name,
          description: patch.description,
          type: toDbEventType(type),
          collection: patch.collection,
          fields: fields ?? [],
          condition: patch.condition === undefined ? undefined : jsonOrNull(patch.condition),
          active: patch.active,
        },
      });
      const [before, after] = [publicDefinition(current), publicDefinition(definition)];
      const target = { kind: "definition" as const, id };
      return { result: definition, entry: { action: "definition.update", target, before, after } };
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(patch.name ?? current.name);
      throw error;
    }
  });
}

/**
 * Deletes a definition with its triggers and webhooks; the event log keeps what they did, the audit entry
 * what they were (the definition as GET /definitions/{id} shows it).
 */
export async function deleteDefinition(deps: ChangeDeps, id: string, actor: Actor) {
  await audited(deps, actor, async (tx) => {
    const current = await tx.eventDefinition.findUnique({
      where: { id },
      include: { triggers: { orderBy: { id: "asc" } }, webhooks: { orderBy: { id: "asc" } } },
    });
    if (!current) throw notFound("definition", id);
    const { count } = await tx.eventDefinition.deleteMany({ where: { id } });
    if (count === 0) throw notFound("definition", id);
    const before = {
      ...publicDefinition(current),
      triggers: current.triggers.map(publicTrigger),
      webhooks: current.webhooks.map((w) => publicWebhook(w, deps.config)),
    };
    return {
      result: undefined,
      entry: { action: "definition.delete", target: { kind: "definition", id }, before, after: null },
    };
  });
}
