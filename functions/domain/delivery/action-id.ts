// An action's id: derived from its event and target, so every run of the match (and every attempt, whose
// webhook-id it is) agrees, and a dry run shows the id a real delivery would carry.
import type { ActionKind } from "../../platform/db.ts";
import { derivedId } from "../../platform/ids.ts";

export const actionId = (eventId: string, kind: ActionKind, targetId: string) =>
  derivedId("act", eventId, `${eventId}/${kind}/${targetId}`);
