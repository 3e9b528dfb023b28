// The actions an event's match calls for: one per active target of each kind (registry order) of each
// definition the event fires.
import { firedDefinitions, type DefinitionWithTargets, type MatchableEvent } from "../matching/match-definitions.ts";
import { actionId } from "./action-id.ts";
import type { PlannedAction } from "./action-log/action-log.ts";
import type { ActionKind } from "../../platform/db.ts";
import { ACTION_KINDS } from "./kinds/registry.ts";
import type { ActionKinds } from "./kinds/runtime.ts";

export { actionId };

/**
 * A definition whose condition ran out of its budget has its actions planned as failed, so the log says
 * why they did not run (a replay runs them).
 */
export function planActions(
  event: MatchableEvent,
  definitions: DefinitionWithTargets[],
  kinds: ActionKinds = ACTION_KINDS,
): PlannedAction[] {
  const names = Object.keys(kinds) as ActionKind[];
  return firedDefinitions(event, definitions).flatMap(({ definition, failure }) =>
    names.flatMap((kind) =>
      kinds[kind].targets(definition).map((target) => ({
        id: actionId(event.id, kind, target.id),
        eventId: event.id,
        kind,
        targetId: target.id,
        definitionId: definition.id,
        start: kinds[kind].start,
        ...(target.ordered ? { ordered: true } : {}),
        ...(failure ? { failure } : {}),
      })),
    ),
  );
}
