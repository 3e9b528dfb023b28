// GET /events/{id}/explain: for every definition of the event's collection (active or not, and those
// deleted since, named as such), whether it matched and why, clause by clause, then what that produced.
// Definitions are explained as they are today; each one changed after the event was matched says so.
import type { Config } from "../../platform/config.ts";
import type { ActionKind, EventAction, EventLog, EventStatus } from "../../platform/db.ts";
import type { Queryable } from "../../platform/sql.ts";
import { getEvent } from "../events/event-log.ts";
import { toDbEventType, toPublicEventType, type PublicEventType } from "../events/event-type.ts";
import type { MatchableEvent } from "../matching/match-definitions.ts";
import type { Verdict } from "./explain-condition.ts";
import { setImmediate } from "node:timers/promises";
import { LIMITS } from "../limits.ts";
import { explainMatch, selectExplained, type MatchExplanation } from "./explain-match.ts";
import { explanationBudget } from "./explain-condition.ts";
import { loadDefinitions } from "../definitions/load-definitions.ts";
import type { Waiting } from "../delivery/waiting.ts";

export interface ProducedAction {
  kind: ActionKind;
  id: string;
  status: EventStatus;
  attempts: number;
  errorCode: string | null;
  error: string | null;
  waiting: Waiting | null;
}

export interface DefinitionVerdict {
  definition: {
    id: string;
    name: string | null;
    type: PublicEventType | null;
    active: boolean | null;
    updatedAt: string | null;
  };
  deleted: boolean;
  matched: Verdict | null;
  /** Null for a deleted definition: nothing is left to explain it with. */
  why: MatchExplanation | null;
  /** The definition was changed after the event was matched: this explains today's version. */
  changedSinceMatched: boolean;
  produced: ProducedAction[];
}

export interface EventExplanation {
  event: {
    id: string;
    type: PublicEventType;
    collection: string;
    recordId: string;
    status: EventStatus;
    depth: number;
    changedFields: string[];
    matchedAt: string | null;
  };
  configuration: { explainedAgainst: "current"; note: string };
  depth: { depth: number; max: number; triggersStop: boolean; note: string };
  definitions: DefinitionVerdict[];
  omitted: Omitted;
}

/** Definitions judged but not explained clause by clause (past LIMITS.explainedDefinitions). */
export interface Omitted {
  definitions: number;
  note: string | null;
}

export const omittedNote = (definitions: number): Omitted => ({
  definitions,
  note: definitions
    ? `${definitions} more definitions of the collection were judged but are not explained here: an answer ` +
      `explains at most ${LIMITS.explainedDefinitions} (those that produced actions or matched first)`
    : null,
});

/** An event row as matching reads it (SQL gives the enum as users spell it). */
export function matchable(
  event: Pick<
    EventLog,
    "id" | "type" | "collection" | "recordId" | "occurredAt" | "depth" | "data" | "previous" | "changedFields"
  >,
): MatchableEvent {
  return { ...event, type: toDbEventType(toPublicEventType(event.type)) };
}

const produced = (actions: EventAction[], definitionId: string): ProducedAction[] =>
  actions
    .filter((a) => a.definitionId === definitionId)
    .map((a) => ({
      kind: a.kind,
      id: a.targetId,
      status: a.status,
      attempts: a.attempts,
      errorCode: a.errorCode,
      error: a.error,
      waiting: a.waiting as ProducedAction["waiting"],
    }));

export function depthNote(depth: number, max: number) {
  const triggersStop = depth >= max;
  return {
    depth,
    max,
    triggersStop,
    note: triggersStop
      ? `the event is at depth ${depth} of a chain caused by triggers: ` +
        `its triggers do not run (TRIGGER_MAX_DEPTH is ${max}); its webhooks do`
      : `depth ${depth} of at most ${max}: triggers run`,
  };
}

export async function explainEvent(
  q: Queryable,
  config: Pick<Config, "TRIGGER_MAX_DEPTH">,
  eventId: string,
): Promise<EventExplanation> {
  const event = await getEvent(q, eventId);
  const definitions = await loadDefinitions(q, { collection: event.collection });
  const matchedAt = (event as EventLog & { matchedAt?: Date | null }).matchedAt ?? null;
  const subject = matchable(event);
  // Definitions that produced actions but are not among the collection's now: moved elsewhere, or deleted.
  const listed = new Set(definitions.map((d) => d.id));
  const elsewhere = await loadDefinitions(q, {
    ids: [...new Set(event.actions.map((a) => a.definitionId))].filter((id) => !listed.has(id)),
  });
  const producedSome = new Set(event.actions.map((a) => a.definitionId));
  const {
    verdicts: matched,
    explained,
    omitted,
  } = selectExplained(subject, [...definitions, ...elsewhere], (d) => producedSome.has(d.id));
  const budget = explanationBudget();
  const verdicts: DefinitionVerdict[] = [];
  for (const definition of explained) {
    // Between definitions the API answers others: an explanation's work is bounded, but not small.
    await setImmediate();
    const why = explainMatch(subject, definition, matched.get(definition.id)!, budget);
    verdicts.push({
      definition: {
        id: definition.id,
        name: definition.name,
        type: toPublicEventType(definition.type),
        active: definition.active,
        updatedAt: definition.updatedAt.toISOString(),
      },
      deleted: false,
      matched: why.matched,
      why,
      changedSinceMatched: matchedAt !== null && definition.updatedAt > matchedAt,
      produced: produced(event.actions, definition.id),
    });
  }
  const known = new Set([...definitions, ...elsewhere].map((d) => d.id));
  for (const definitionId of new Set(event.actions.map((a) => a.definitionId))) {
    if (known.has(definitionId)) continue;
    verdicts.push({
      definition: { id: definitionId, name: null, type: null, active: null, updatedAt: null },
      deleted: true,
      matched: null,
      why: null,
      changedSinceMatched: true,
      produced: produced(event.actions, definitionId),
    });
  }
  const changed = verdicts.filter((v) => v.changedSinceMatched && !v.deleted).length;
  return {
    event: {
      id: event.id,
      type: toPublicEventType(event.type),
      collection: event.collection,
      recordId: event.recordId,
      status: event.status,
      depth: event.depth,
      changedFields: event.changedFields,
      matchedAt: matchedAt?.toISOString() ?? null,
    },
    configuration: {
      explainedAgainst: "current",
      note: matchedAt
        ? `matched at ${matchedAt.toISOString()}; explained against the definitions as they are now` +
          (changed ? ` (${changed} changed since: those say changedSinceMatched)` : ", none of which changed since")
        : "not matched yet: explained against the definitions as they are now, which it will be matched with",
    },
    depth: depthNote(event.depth, config.TRIGGER_MAX_DEPTH),
    definitions: verdicts,
    omitted: omittedNote(omitted),
  };
}
