// Dry runs: what would happen if this change came in. The same explanation as for a logged event, plus
// for each webhook of a matching definition the exact request it would send (the signature left out) and
// for each trigger the records it would create, update or delete. Reads only: nothing is written, queued
// or sent.
import sql from "sql-template-tag";
import { z } from "zod";
import type { Config } from "../../platform/config.ts";
import type { EventTrigger, Webhook } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { actionId } from "../delivery/action-id.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";
import { createDefinitionInput } from "../definitions/definition-input.ts";
import { notFound } from "../errors.ts";
import { changedFields } from "../events/changed-fields.ts";
import { eventContext } from "../events/event-context.ts";
import { seenEventInput } from "../events/event-input.ts";
import { toDbEventType, toPublicEventType, type PublicEventType } from "../events/event-type.ts";
import type { MatchableEvent } from "../matching/match-definitions.ts";
import { createTriggerInput } from "../triggers/trigger-input.ts";
import { derivedRecordId, planTrigger, type TriggerPlan } from "../triggers/plan-trigger.ts";
import { triggerTargets } from "../collections/record-statements.ts";
import { collectionName, jsonObject } from "../validation.ts";
import { buildDelivery, UnsendableDelivery } from "../webhooks/build-delivery.ts";
import { redactedHeaders } from "../webhooks/secret-headers.ts";
import { createWebhookInput } from "../webhooks/webhook-input.ts";
import { RenderedTooLarge } from "../templates/template.ts";
import { depthNote, omittedNote, type Omitted } from "./explain-event.ts";
import { setImmediate } from "node:timers/promises";
import { formatBytes, LIMITS } from "../limits.ts";
import { explainMatch, selectExplained, type MatchExplanation } from "./explain-match.ts";
import { explanationBudget } from "./explain-condition.ts";
import { loadDefinitions, type FullDefinition } from "../definitions/load-definitions.ts";

const SHOWN_BODY_CHARS = 64 * 1024;

/** Records listed per trigger (the count says how many in all). */
export const DRY_RUN_RECORDS = 100;

/** A record write: `previous` absent or null is a create, `data` null a delete, both an update. */
export const recordWriteInput = z.strictObject({
  collection: collectionName,
  id: z.string().min(1).max(255),
  data: jsonObject.nullable(),
  previous: jsonObject.nullable().optional(),
});

const subject = {
  event: seenEventInput.optional().meta({ description: "a would-be event, as POST /events takes it (tetik too)" }),
  record: recordWriteInput
    .optional()
    .meta({ description: "or a record write: previous absent is a create, data null a delete" }),
};
const oneSubject = (input: { event?: unknown; record?: unknown }, ctx: z.RefinementCtx) => {
  if ((input.event === undefined) === (input.record === undefined))
    ctx.addIssue({ code: "custom", message: "give either event or record" });
};

export const dryRunInput = z.strictObject(subject).superRefine(oneSubject);

/** POST /dry-run: a collection's definitions, or one being written (not saved) with its webhooks and triggers. */
export const collectionDryRunInput = z
  .strictObject({
    ...subject,
    definition: createDefinitionInput
      .optional()
      .meta({ description: "a definition being written: dry-run it instead of the saved ones" }),
    webhooks: z
      .array(createWebhookInput.omit({ definitionId: true }))
      .max(100)
      .optional(),
    triggers: z.array(createTriggerInput).max(100).optional(),
  })
  .superRefine(oneSubject);

export type DryRunInput = z.output<typeof collectionDryRunInput>;

export interface WouldSend {
  webhookId: string;
  request?: { url: string; method: string; headers: Record<string, string>; body: string; truncated?: boolean };
  error?: { code: string; message: string };
}

export interface WouldWrite {
  triggerId: string;
  action: EventTrigger["action"];
  targetCollection: string;
  /**
   * For create and update: the records after the write; for delete: the records it would delete. At most
   * DRY_RUN_RECORDS.
   */
  records: Array<{ id: string; data: Record<string, unknown> | null }>;
  count: number;
  error?: { code: string; message: string };
  stopped?: string;
}

export interface DryRunDefinition {
  definition: { id: string; name: string; type: PublicEventType; active: boolean; saved: boolean };
  matched: MatchExplanation["matched"];
  why: MatchExplanation;
  webhooks: WouldSend[];
  triggers: WouldWrite[];
}

export interface DryRunResult {
  event: {
    type: PublicEventType;
    collection: string;
    recordId: string;
    data: Record<string, unknown>;
    previous: Record<string, unknown> | null;
    changedFields: string[];
  };
  depth: ReturnType<typeof depthNote>;
  definitions: DryRunDefinition[];
  omitted: Omitted;
  note: string;
}

type Json = MatchableEvent["data"];

type Deps = { q: Queryable; config: Pick<Config, "TRIGGER_MAX_DEPTH" | "TRIGGER_MAX_RECORDS">; now: () => Date };

/**
 * The event the input describes, as ingestion or the collections writer would log it (its id is made up,
 * never stored).
 */
function wouldBeEvent(input: DryRunInput, now: Date): MatchableEvent {
  if (input.event) {
    const e = input.event;
    const previous = e.previous ?? null;
    return {
      id: newId("evt"),
      type: toDbEventType(e.type),
      collection: e.collection,
      recordId: String(e.recordId),
      depth: 0,
      occurredAt: e.occurredAt ? new Date(e.occurredAt) : now,
      data: e.data as Json,
      previous: previous as Json,
      changedFields: e.type === "collection.updated" ? changedFields(e.data, previous) : [],
    };
  }
  // As the collections writer logs them: a delete carries the data the record had and no previous values.
  const r = input.record!;
  const type: PublicEventType =
    r.data === null ? "collection.deleted" : r.previous ? "collection.updated" : "collection.created";
  const data = r.data ?? r.previous ?? {};
  const previous = type === "collection.updated" ? r.previous! : null;
  return {
    id: newId("evt"),
    type: toDbEventType(type),
    collection: r.collection,
    recordId: r.id,
    depth: 0,
    occurredAt: now,
    data: data as Json,
    previous: previous as Json,
    changedFields: type === "collection.updated" ? changedFields(data, previous) : [],
  };
}

/** A definition being written, with defaults as saving it would give them. */
function inlineDefinition(input: DryRunInput, now: Date): FullDefinition {
  const d = input.definition!;
  const id = "def_unsaved";
  return {
    id,
    name: d.name,
    description: d.description ?? null,
    type: toDbEventType(d.type),
    collection: d.collection,
    fields: d.fields ?? [],
    condition: (d.condition ?? null) as never,
    active: d.active ?? true,
    createdAt: now,
    updatedAt: now,
    webhooks: (input.webhooks ?? []).map((w, i) => ({
      id: `whk_unsaved_${i}`,
      definitionId: id,
      url: w.url,
      method: w.method ?? "POST",
      headers: w.headers ?? {},
      secretHeaders: w.secretHeaders ?? {},
      payload: (w.payload ?? null) as never,
      active: w.active ?? true,
    })) as unknown as Webhook[],
    triggers: (input.triggers ?? []).map((t, i) => ({
      id: `trg_unsaved_${i}`,
      definitionId: id,
      action: t.action,
      targetCollection: t.targetCollection,
      filter: (t.filter ?? null) as never,
      data: (t.data ?? null) as never,
      active: t.active ?? true,
    })) as unknown as EventTrigger[],
  } as FullDefinition;
}

const wouldWriteBase = (trigger: EventTrigger): WouldWrite => ({
  triggerId: trigger.id,
  action: trigger.action,
  targetCollection: trigger.targetCollection,
  records: [],
  count: 0,
});

/** What a trigger would write; what its templates render is added to `rendered` (the dry run's budget). */
async function wouldWrite(
  deps: Deps,
  trigger: EventTrigger,
  event: MatchableEvent,
  definition: FullDefinition,
  actionId: string,
  rendered: { bytes: number },
): Promise<WouldWrite> {
  const base = wouldWriteBase(trigger);
  const depth = depthNote(event.depth, deps.config.TRIGGER_MAX_DEPTH);
  if (depth.triggersStop) return { ...base, stopped: depth.note };
  let plan: TriggerPlan;
  try {
    plan = planTrigger(trigger, eventContext(event, definition));
    rendered.bytes += JSON.stringify(plan.data).length;
  } catch (error) {
    rendered.bytes += LIMITS.renderedBytes;
    const code = error instanceof RenderedTooLarge ? error.code : "invalid_trigger_result";
    return { ...base, error: { code, message: (error as Error).message } };
  }
  // As the trigger runner names the record it creates: derived from the action, the same on every run.
  if (plan.action === "create")
    return { ...base, records: [{ id: derivedRecordId(actionId), data: plan.data }], count: 1 };
  // The runner's own selection (an update only takes the records its patch changes), one past its limit.
  const limit = deps.config.TRIGGER_MAX_RECORDS;
  const targets = triggerTargets(
    plan.collection,
    plan.where ?? sql`TRUE`,
    plan.action === "update" ? plan.data : undefined,
  );
  const [rows, [counted]] = await Promise.all([
    runSql<{ id: string; data: Record<string, unknown> }>(
      deps.q,
      sql`SELECT id, data FROM records WHERE ${targets} ORDER BY id LIMIT ${DRY_RUN_RECORDS}`,
    ),
    // Counted no further than the runner looks.
    runSql<{ n: number }>(
      deps.q,
      sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM records WHERE ${targets} LIMIT ${limit + 1}) s`,
    ),
  ]);
  const count = counted!.n;
  if (count > limit) {
    return {
      ...base,
      count,
      error: {
        code: "too_many_records",
        message: `the filter selects more than TRIGGER_MAX_RECORDS (${limit}) records; nothing would be written`,
      },
    };
  }
  // An update merges the rendered data into each record's top-level fields, as the runner's `data || patch` does.
  const records = rows.map((r) => ({
    id: r.id,
    data: plan.action === "update" ? { ...r.data, ...plan.data } : r.data,
  }));
  return { ...base, records, count };
}

export async function dryRun(
  deps: Deps,
  input: DryRunInput,
  { definitionId }: { definitionId?: string } = {},
): Promise<DryRunResult> {
  const now = deps.now();
  const event = wouldBeEvent(input, now);
  const result = (definitions: DryRunDefinition[], omitted: number, note: string): DryRunResult => ({
    event: {
      type: toPublicEventType(event.type),
      collection: event.collection,
      recordId: event.recordId,
      data: event.data as Record<string, unknown>,
      previous: event.previous as Record<string, unknown> | null,
      changedFields: event.changedFields,
    },
    depth: depthNote(event.depth, deps.config.TRIGGER_MAX_DEPTH),
    definitions,
    omitted: omittedNote(omitted),
    note,
  });
  // The collections writer logs no event for an update that changes nothing.
  if (input.record && event.type === "collection_updated" && event.changedFields.length === 0) {
    return result([], 0, "a dry run: this write changes nothing, so no event would be logged and nothing would fire");
  }
  let definitions: FullDefinition[];
  if (definitionId) {
    definitions = await loadDefinitions(deps.q, { ids: [definitionId] });
    if (definitions.length === 0) throw notFound("definition", definitionId);
  } else {
    definitions = input.definition
      ? [inlineDefinition(input, now)]
      : await loadDefinitions(deps.q, { collection: event.collection });
  }
  const results: DryRunDefinition[] = [];
  const { verdicts, explained, omitted } = selectExplained(event, definitions);
  const budget = explanationBudget();
  const rendered = { bytes: 0 };
  const renderLeft = () => LIMITS.dryRunRenderedBytes - rendered.bytes;
  const notRendered = () => ({
    code: "not_rendered",
    message:
      `this dry run rendered ${formatBytes(LIMITS.dryRunRenderedBytes)} for other webhooks and triggers already; ` +
      "dry-run this definition alone to see this one",
  });
  for (const definition of explained) {
    // Between definitions the API answers others: a dry run's work is bounded, but not small.
    await setImmediate();
    const why = explainMatch(event, definition, verdicts.get(definition.id)!, budget);
    const matched = why.matched === true;
    const webhooks: WouldSend[] = [];
    const triggers: WouldWrite[] = [];
    if (matched) {
      for (const webhook of definition.webhooks.filter((w) => w.active)) {
        if (renderLeft() <= 0) {
          webhooks.push({ webhookId: webhook.id, error: notRendered() });
          continue;
        }
        try {
          // Signed with a stand-in secret, and the signature left out; secret headers shown by name with
          // "[secret]" (never opened here): the rest is byte for byte what goes out.
          const { headers, ...request } = buildDelivery(
            {
              ...webhook,
              secretHeaders: redactedHeaders(webhook.secretHeaders),
              secret: "whsec_ZHJ5LXJ1bg==",
              previousSecret: null,
              previousSecretExpiresAt: null,
            },
            eventContext(event, definition),
            actionId(event.id, "webhook", webhook.id),
            now,
          );
          rendered.bytes += request.body.length;
          delete headers["webhook-signature"];
          // A body past 64 KiB (an event's data can be 1 MiB) is cut: the answer stays readable and bounded.
          const truncated = request.body.length > SHOWN_BODY_CHARS;
          webhooks.push({
            webhookId: webhook.id,
            request: {
              ...request,
              headers,
              body: truncated ? request.body.slice(0, SHOWN_BODY_CHARS) : request.body,
              ...(truncated ? { truncated } : {}),
            },
          });
        } catch (error) {
          if (!(error instanceof UnsendableDelivery)) throw error;
          if (error.errorCode === "rendered_too_large") rendered.bytes += LIMITS.renderedBytes;
          webhooks.push({ webhookId: webhook.id, error: { code: error.errorCode, message: error.message } });
        }
      }
      for (const trigger of definition.triggers.filter((t) => t.active)) {
        if (renderLeft() <= 0) {
          triggers.push({ ...wouldWriteBase(trigger), error: notRendered() });
          continue;
        }
        const id = actionId(event.id, "trigger", trigger.id);
        triggers.push(await wouldWrite(deps, trigger, event, definition, id, rendered));
      }
    }
    results.push({
      definition: {
        id: definition.id,
        name: definition.name,
        type: toPublicEventType(definition.type),
        active: definition.active,
        saved: !input.definition || Boolean(definitionId),
      },
      matched: why.matched,
      why,
      webhooks,
      triggers,
    });
  }
  return result(
    results,
    omitted,
    "a dry run: nothing was written, queued or sent. The event's id and the webhook-id and webhook-timestamp " +
      "headers are made for this run; a real delivery has its own.",
  );
}
