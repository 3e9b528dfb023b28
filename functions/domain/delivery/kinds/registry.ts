// Every action kind, one entry each (runtime.ts says what an entry holds). The keys are the database's
// ActionKind enum: a kind added to the schema and not here, or here and not in the schema, does not
// compile. The order is the order a definition's actions are planned in.
import type { ActionKinds } from "./runtime.ts";
import { triggerKind } from "./trigger.ts";
import { webhookKind } from "./webhook.ts";

export const ACTION_KINDS: ActionKinds = {
  trigger: triggerKind,
  webhook: webhookKind,
};
