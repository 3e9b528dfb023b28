// The worker's cache of what matching and delivery need: active definitions with their compiled
// conditions, active triggers and active webhooks. It is keyed by config_version, which database
// triggers move on every change, and which the worker reads together with each event: an event is never
// matched against a cache older than a change committed before the event was read.
import type { SecretBox } from "../platform/secret-box.ts";
import type { Queryable } from "../platform/sql.ts";
import { loadDefinitions } from "../domain/definitions/load-definitions.ts";
import { compileCondition, type Condition, type ConditionTest } from "../domain/conditions/condition.ts";
import type { DefinitionWithTargets } from "../domain/matching/match-definitions.ts";
import type { CachedTrigger, CachedWebhook, ConfigCache, MatchConfig } from "../domain/delivery/kinds/runtime.ts";
import { withOpenSecrets } from "../domain/webhooks/secret.ts";

async function load(q: Queryable, secrets: SecretBox): Promise<MatchConfig> {
  // The version first: the definitions read after it are at least as new.
  const [versionRow] = await q.query<{ version: string }>(`SELECT version FROM config_version WHERE id = 1`);
  const definitions = await loadDefinitions(q, { active: true });

  const byCollection = new Map<string, DefinitionWithTargets[]>();
  const byId = new Map<string, DefinitionWithTargets & { conditionTest: ConditionTest }>();
  for (const { webhooks: _, triggers: __, ...definition } of definitions) {
    const entry = {
      ...definition,
      webhooks: [] as Array<{ id: string; ordering: string }>,
      triggers: [] as Array<{ id: string }>,
      conditionTest: compileCondition(definition.condition as Condition | null),
    };
    byId.set(definition.id, entry);
    byCollection.set(definition.collection, [...(byCollection.get(definition.collection) ?? []), entry]);
  }
  const hooks = new Map<string, CachedWebhook>();
  for (const webhook of definitions.flatMap((d) => d.webhooks)) {
    const definition = byId.get(webhook.definitionId)!;
    definition.webhooks.push({ id: webhook.id, ordering: webhook.ordering });
    hooks.set(webhook.id, {
      ...withOpenSecrets(webhook, secrets),
      definition: { id: definition.id, name: definition.name },
    });
  }
  const triggerById = new Map<string, CachedTrigger>();
  for (const trigger of definitions.flatMap((d) => d.triggers)) {
    const definition = byId.get(trigger.definitionId)!;
    definition.triggers.push({ id: trigger.id });
    triggerById.set(trigger.id, { ...trigger, definition: { id: definition.id, name: definition.name } });
  }

  return {
    version: BigInt(versionRow?.version ?? 0),
    definitionsFor: (collection) => byCollection.get(collection) ?? [],
    webhook: (id) => hooks.get(id),
    trigger: (id) => triggerById.get(id),
  };
}

export function createConfigCache(q: Queryable, secrets: SecretBox): ConfigCache {
  let current: MatchConfig | undefined;
  let loading: Promise<MatchConfig> | undefined;
  const reload = () => (loading ??= load(q, secrets).finally(() => (loading = undefined)));
  return {
    async get(version) {
      // A reload already under way may have read the version before `version` was committed: then one
      // more. Two are always enough, since the second starts after the caller read `version`.
      for (let tries = 0; tries < 2 && !(current && current.version >= version); tries++) {
        const fresh = await reload();
        if (!current || fresh.version > current.version) current = fresh;
      }
      return current!;
    },
  };
}
