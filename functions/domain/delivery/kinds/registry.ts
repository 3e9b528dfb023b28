// Every action kind, one entry each (see kind.ts for what an entry says). The keys are the database's
// ActionKind enum: a kind added to the schema and not here, or here and not in the schema, does not
// compile. The order is the order a definition's actions are planned in.
import type { ActionKind } from "../../../platform/db.ts";
import type { ActionKindEntry } from "./kind.ts";
import { triggerKind } from "./trigger.ts";
import { webhookKind } from "./webhook.ts";

export const ACTION_KINDS: { readonly [K in ActionKind]: ActionKindEntry } = {
  trigger: triggerKind,
  webhook: webhookKind,
};

export const actionKinds = Object.keys(ACTION_KINDS) as ActionKind[];
