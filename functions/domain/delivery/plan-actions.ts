// The actions an event's match calls for: one per active target of each kind (registry order) of each
// definition the event fires.
import { firedDefinitions, type DefinitionWithTargets, type MatchableEvent } from "../matching/match-definitions.ts";
import { actionId } from "./action-id.ts";
import type { PlannedAction } from "./action-log/action-log.ts";
import { ACTION_KINDS, actionKinds } from "./kinds/registry.ts";

export { actionId };

/**
 * A definition whose condition ran out of its budget has its actions planned as failed, so the log says
 * why they did not run (a replay runs them).
 */
export function planActions(event: MatchableEvent, definitions: DefinitionWithTargets[]): PlannedAction[] {
  return firedDefinitions(event, definitions).flatMap(({ definition, failure }) =>
    actionKinds.flatMap((kind) =>
      ACTION_KINDS[kind].targets(definition).map((target) => ({
        id: actionId(event.id, kind, target.id),
        eventId: event.id,
        kind,
        targetId: target.id,
        definitionId: definition.id,
        start: ACTION_KINDS[kind].start,
        ...(failure ? { failure } : {}),
      })),
    ),
  );
}
