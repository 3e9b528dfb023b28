// The audit trail: every route of the contract that changes configuration writes exactly one entry, made by
// the key that called it, with the right action and target, and no secret in it; a refused change writes
// none; GET /audit filters and pages; entries cannot be changed; the sweep forgets them past retention.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allRoutes } from "../functions/api/contract/routes.ts";
import { openApiDocument } from "../functions/api/contract/openapi-document.ts";
import { keyDigest } from "../functions/domain/keys/api-keys.ts";
import { runSweep } from "../functions/domain/sweep/run-sweep.ts";
import type { AuditEntry } from "../functions/client/index.ts";
import { expectStatus } from "./helpers/api-types.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

const API_KEY = "audit-test-bootstrap-key-0123";
const DAY_MS = 86_400_000;
let stack: TestStack;

type RouteName = keyof typeof allRoutes;
interface Key {
  id: string | null;
  name: string;
  key: string;
}
const bootstrap: Key = { id: null, name: "API_KEY", key: API_KEY };
const keys = {} as Record<"admin" | "config" | "replay" | "read", Key>;
const bearer = (key: Key) => ({ authorization: `Bearer ${key.key}` });

/** Every secret text the test makes: none may appear in any entry. */
const secrets: string[] = [];

// Routes that take a POST, PATCH or DELETE but change no configuration: data writes (the event log is
// their record), dry runs and test sends (nothing is written).
const NOT_AUDITED: RouteName[] = [
  "ingestEvent",
  "ingestBatch",
  "createRecord",
  "patchRecord",
  "deleteRecord",
  "dryRunDefinition",
  "dryRunCollection",
  "testWebhook",
];
const MUTATING = (Object.keys(allRoutes) as RouteName[]).filter((name) =>
  ["post", "patch", "delete"].includes(allRoutes[name].method),
);

async function entryCount(): Promise<number> {
  const { rows } = await stack.deps.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_entries");
  return rows[0]!.n;
}

async function newest(limit = 1): Promise<AuditEntry[]> {
  return expectStatus(await stack.api("GET", `/audit?limit=${limit}`, undefined, bearer(bootstrap)), 200).data;
}

async function makeKey(by: Key, name: string, scopes: string[]): Promise<Key> {
  const made = expectStatus(await stack.api("POST", "/keys", { name, scopes }, bearer(by)), 201);
  secrets.push(made.key, keyDigest(made.key));
  return { id: made.id, name, key: made.key };
}

beforeAll(async () => {
  stack = await startStack({ worker: false, env: { API_KEY } });
  keys.admin = await makeKey(bootstrap, "admin-bot", ["admin"]);
  keys.config = await makeKey(keys.admin, "config-bot", ["config"]);
  keys.replay = await makeKey(keys.admin, "replay-bot", ["replay"]);
  keys.read = await makeKey(keys.admin, "read-bot", ["read"]);
});
afterAll(async () => {
  await stack?.stop();
});

interface Step {
  route: RouteName;
  by: () => Key;
  action: string;
  /** Makes the request; answers the target's id (and keeps what later steps need). */
  run: () => Promise<{ kind: string; id: string }>;
}

const ids = { definition: "", trigger: "", webhook: "", event: "", temporaryKey: "" };

const steps: Step[] = [
  {
    route: "createKey",
    by: () => keys.admin,
    action: "key.create",
    run: async () => {
      const made = await makeKey(keys.admin, "short-lived", ["read"]);
      ids.temporaryKey = made.id!;
      return { kind: "key", id: made.id! };
    },
  },
  {
    route: "createDefinition",
    by: () => keys.config,
    action: "definition.create",
    run: async () => {
      const body = { name: "big-orders", type: "collection.created", collection: "orders" };
      ids.definition = expectStatus(await stack.api("POST", "/definitions", body, bearer(keys.config)), 201).id;
      return { kind: "definition", id: ids.definition };
    },
  },
  {
    route: "updateDefinition",
    by: () => keys.config,
    action: "definition.update",
    run: async () => {
      const body = { description: "orders over 100" };
      expectStatus(await stack.api("PATCH", `/definitions/${ids.definition}`, body, bearer(keys.config)), 200);
      return { kind: "definition", id: ids.definition };
    },
  },
  {
    route: "createTrigger",
    by: () => keys.config,
    action: "trigger.create",
    run: async () => {
      const body = { action: "create", targetCollection: "copies", data: { orderId: "{{event.recordId}}" } };
      const path = `/definitions/${ids.definition}/triggers` as const;
      ids.trigger = expectStatus(await stack.api("POST", path, body, bearer(keys.config)), 201).id;
      return { kind: "trigger", id: ids.trigger };
    },
  },
  {
    route: "updateTrigger",
    by: () => keys.config,
    action: "trigger.update",
    run: async () => {
      expectStatus(await stack.api("PATCH", `/triggers/${ids.trigger}`, { active: false }, bearer(keys.config)), 200);
      return { kind: "trigger", id: ids.trigger };
    },
  },
  {
    route: "createWebhook",
    by: () => keys.config,
    action: "webhook.create",
    run: async () => {
      secrets.push("Bearer receiver-token-on-create-7Qx2");
      const body = {
        definitionId: ids.definition,
        url: "http://127.0.0.1:9/hook",
        headers: { "x-team": "billing" },
        secretHeaders: { authorization: "Bearer receiver-token-on-create-7Qx2" },
      };
      const made = expectStatus(await stack.api("POST", "/webhooks", body, bearer(keys.config)), 201);
      secrets.push(made.secret);
      ids.webhook = made.id;
      return { kind: "webhook", id: ids.webhook };
    },
  },
  {
    route: "updateWebhook",
    by: () => keys.config,
    action: "webhook.update",
    run: async () => {
      secrets.push("receiver-token-on-update-9Kd4");
      const body = { url: "http://127.0.0.1:9/other", secretHeaders: { "x-token": "receiver-token-on-update-9Kd4" } };
      expectStatus(await stack.api("PATCH", `/webhooks/${ids.webhook}`, body, bearer(keys.config)), 200);
      return { kind: "webhook", id: ids.webhook };
    },
  },
  {
    route: "updateWebhook",
    by: () => keys.config,
    action: "webhook.disable",
    run: async () => {
      expectStatus(await stack.api("PATCH", `/webhooks/${ids.webhook}`, { active: false }, bearer(keys.config)), 200);
      return { kind: "webhook", id: ids.webhook };
    },
  },
  {
    route: "updateWebhook",
    by: () => keys.admin,
    action: "webhook.enable",
    run: async () => {
      expectStatus(await stack.api("PATCH", `/webhooks/${ids.webhook}`, { active: true }, bearer(keys.admin)), 200);
      return { kind: "webhook", id: ids.webhook };
    },
  },
  {
    route: "rotateSecret",
    by: () => keys.config,
    action: "webhook.rotate_secret",
    run: async () => {
      const path = `/webhooks/${ids.webhook}/rotate-secret` as const;
      secrets.push(expectStatus(await stack.api("POST", path, undefined, bearer(keys.config)), 200).secret);
      return { kind: "webhook", id: ids.webhook };
    },
  },
  {
    route: "replayEvent",
    by: () => keys.replay,
    action: "event.replay",
    run: async () => {
      const event = { type: "collection.created", collection: "orders", recordId: "o-1", data: { total: 5 } };
      ids.event = expectStatus(await stack.api("POST", "/events", event, bearer(bootstrap)), 202).id;
      expectStatus(await stack.api("POST", `/events/${ids.event}/replay`, undefined, bearer(keys.replay)), 202);
      return { kind: "event", id: ids.event };
    },
  },
  {
    route: "replayEvents",
    by: () => keys.replay,
    action: "event.replay",
    run: async () => {
      expectStatus(await stack.api("POST", "/events/replay", { status: "failed" }, bearer(keys.replay)), 202);
      return { kind: "events", id: "replay" };
    },
  },
  {
    route: "deleteTrigger",
    by: () => keys.config,
    action: "trigger.delete",
    run: async () => {
      expectStatus(await stack.api("DELETE", `/triggers/${ids.trigger}`, undefined, bearer(keys.config)), 204);
      return { kind: "trigger", id: ids.trigger };
    },
  },
  {
    route: "deleteWebhook",
    by: () => keys.config,
    action: "webhook.delete",
    run: async () => {
      expectStatus(await stack.api("DELETE", `/webhooks/${ids.webhook}`, undefined, bearer(keys.config)), 204);
      return { kind: "webhook", id: ids.webhook };
    },
  },
  {
    route: "deleteDefinition",
    by: () => keys.config,
    action: "definition.delete",
    run: async () => {
      expectStatus(await stack.api("DELETE", `/definitions/${ids.definition}`, undefined, bearer(keys.config)), 204);
      return { kind: "definition", id: ids.definition };
    },
  },
  {
    route: "revokeKey",
    by: () => bootstrap,
    action: "key.revoke",
    run: async () => {
      expectStatus(await stack.api("DELETE", `/keys/${ids.temporaryKey}`, undefined, bearer(bootstrap)), 204);
      return { kind: "key", id: ids.temporaryKey };
    },
  },
];

describe("the audit trail", () => {
  it("covers every route that changes configuration, and lists the ones that change none", () => {
    const audited = new Set(steps.map((step) => step.route));
    expect([...audited, ...NOT_AUDITED].sort()).toEqual([...MUTATING].sort());
  });

  it("writes exactly one entry per change, naming the key, the action and the target", async () => {
    for (const step of steps) {
      const before = await entryCount();
      const target = await step.run();
      expect(await entryCount(), `${step.route} (${step.action})`).toBe(before + 1);
      const [entry] = await newest();
      expect(entry, step.route).toMatchObject({
        keyId: step.by().id,
        keyName: step.by().name,
        action: step.action,
        target,
      });
      expect(entry!.requestId, step.route).toEqual(expect.any(String));
    }
  });

  it("records the target's public view before and after", async () => {
    const [created] = expectStatus(
      await stack.api("GET", `/audit?targetId=${ids.webhook}&action=webhook.create`, undefined, bearer(bootstrap)),
      200,
    ).data;
    expect(created!.before).toBeNull();
    expect(created!.after).toMatchObject({
      id: ids.webhook,
      url: "http://127.0.0.1:9/hook",
      headers: { "x-team": "billing" },
      secretHeaders: ["authorization"],
      active: true,
    });
    const [disabled] = expectStatus(
      await stack.api("GET", `/audit?targetId=${ids.webhook}&action=webhook.disable`, undefined, bearer(bootstrap)),
      200,
    ).data;
    expect(disabled!.before).toMatchObject({ active: true });
    expect(disabled!.after).toMatchObject({ active: false });
    const [deleted] = expectStatus(
      await stack.api(
        "GET",
        `/audit?targetId=${ids.definition}&action=definition.delete`,
        undefined,
        bearer(bootstrap),
      ),
      200,
    ).data;
    expect(deleted!.after).toBeNull();
    expect(deleted!.before).toMatchObject({ id: ids.definition, name: "big-orders", triggers: [], webhooks: [] });
    const [bulk] = expectStatus(
      await stack.api("GET", "/audit?action=event.replay&targetId=replay", undefined, bearer(bootstrap)),
      200,
    ).data;
    expect(bulk!.after).toMatchObject({ filter: { status: "failed" }, queued: 0 });
  });

  it("makes a config.changed operational event with each entry", async () => {
    const { rows } = await stack.deps.pool.query<{ auditId: string; action: string }>(
      `SELECT data->>'auditId' AS "auditId", data->>'action' AS action FROM event_log
        WHERE collection = 'tetik' AND data->>'kind' = 'config.changed'`,
    );
    const entries = await stack.deps.pool.query<{ id: string; action: string }>("SELECT id, action FROM audit_entries");
    expect(rows.map((r) => `${r.auditId} ${r.action}`).sort()).toEqual(
      entries.rows.map((e) => `${e.id} ${e.action}`).sort(),
    );
  });

  it("writes nothing for a change that is refused or changes nothing", async () => {
    const before = await entryCount();
    const config = bearer(keys.config);
    const taken = { name: "taken", type: "collection.created", collection: "orders" };
    expectStatus(await stack.api("POST", "/definitions", taken, config), 201);
    const afterCreate = await entryCount();
    expect(afterCreate).toBe(before + 1);
    const refused = [
      await stack.api("POST", "/definitions", taken, config), // 409: the name is taken
      await stack.api("POST", "/definitions", { name: "no-type" }, config), // 400
      await stack.api("POST", "/definitions", { ...taken, name: "read-only" }, bearer(keys.read)), // 403
      await stack.api("PATCH", "/definitions/nothing_here", { active: false }, config), // 404
      await stack.api("PATCH", "/webhooks/nothing_here", { active: false }, config), // 404
      await stack.api("POST", "/webhooks", { definitionId: "nothing_here", url: "http://127.0.0.1:9/" }, config),
      await stack.api(
        "POST",
        "/definitions/nothing_here/triggers",
        { action: "delete", targetCollection: "x", filter: { a: 1 } },
        config,
      ),
      await stack.api("DELETE", "/triggers/nothing_here", undefined, config),
      await stack.api("POST", "/webhooks/nothing_here/rotate-secret", undefined, config),
      await stack.api("POST", "/events/nothing_here/replay", undefined, bearer(keys.replay)),
      await stack.api("DELETE", "/keys/nothing_here", undefined, bearer(keys.admin)),
      await stack.api("POST", "/keys", { name: "no scopes", scopes: [] }, bearer(keys.admin)),
    ];
    expect(
      refused.map((answer) => answer.status),
      JSON.stringify(refused.map((answer) => answer.body)),
    ).toEqual([409, 400, 403, 404, 404, 404, 404, 404, 404, 404, 404, 400]);
    // Revoking a revoked key answers 204 and changes nothing.
    expectStatus(await stack.api("DELETE", `/keys/${ids.temporaryKey}`, undefined, bearer(bootstrap)), 204);
    expect(await entryCount()).toBe(afterCreate);
  });

  it("writes nothing for data writes, dry runs and test sends", async () => {
    const before = await entryCount();
    const admin = bearer(keys.admin);
    const definition = expectStatus(
      await stack.api(
        "POST",
        "/definitions",
        { name: "quiet", type: "collection.created", collection: "quiet" },
        admin,
      ),
      201,
    );
    const webhook = expectStatus(
      await stack.api("POST", "/webhooks", { definitionId: definition.id, url: "http://127.0.0.1:9/" }, admin),
      201,
    );
    secrets.push(webhook.secret);
    const made = await entryCount();
    const event = { type: "collection.created", collection: "quiet", recordId: "q-1", data: {} };
    const answers = [
      await stack.api("POST", "/events", event, admin),
      await stack.api("POST", "/events/batch", { events: [event] }, admin),
      await stack.api("POST", "/collections/quiet/records", { id: "q-2", data: { a: 1 } }, admin),
      await stack.api("PATCH", "/collections/quiet/records/q-2", { data: { a: 2 } }, admin),
      await stack.api("DELETE", "/collections/quiet/records/q-2", undefined, admin),
      await stack.api("POST", `/definitions/${definition.id}/dry-run`, { event }, admin),
      await stack.api("POST", "/dry-run", { event }, admin),
      await stack.api("POST", `/webhooks/${webhook.id}/test`, {}, admin),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 201, 200, 204, 200, 200, 200]);
    expect(made).toBe(before + 2);
    expect(await entryCount()).toBe(made);
  });

  it("never holds a secret: webhook secrets, secret header values, key texts and digests", async () => {
    expect(secrets.length).toBeGreaterThan(10);
    const { rows } = await stack.deps.pool.query<{ entry: string }>(
      "SELECT row_to_json(a)::text AS entry FROM audit_entries a",
    );
    expect(rows.length).toBeGreaterThan(steps.length);
    const everything = rows.map((row) => row.entry).join("\n");
    for (const secret of secrets) expect(everything).not.toContain(secret);
    // The answers hold what the rows hold.
    const listed = JSON.stringify(
      expectStatus(await stack.api("GET", "/audit?limit=200", undefined, bearer(bootstrap)), 200),
    );
    for (const secret of secrets) expect(listed).not.toContain(secret);
    expect(everything).toContain("x-token");
  });

  it("filters by target, key, action and time, and pages newest first", async () => {
    const admin = bearer(bootstrap);
    const all = expectStatus(await stack.api("GET", "/audit?limit=200", undefined, admin), 200).data;
    expect(all.map((e) => e.id)).toEqual(
      all
        .map((e) => e.id)
        .sort()
        .reverse(),
    );

    const byTarget = expectStatus(await stack.api("GET", `/audit?targetId=${ids.webhook}`, undefined, admin), 200).data;
    expect(byTarget.map((e) => e.action).reverse()).toEqual([
      "webhook.create",
      "webhook.update",
      "webhook.disable",
      "webhook.enable",
      "webhook.rotate_secret",
      "webhook.delete",
    ]);

    const byKey = expectStatus(await stack.api("GET", `/audit?keyId=${keys.replay.id}`, undefined, admin), 200).data;
    expect(byKey.map((e) => e.target.kind).sort()).toEqual(["event", "events"]);

    const byAction = expectStatus(await stack.api("GET", "/audit?action=key.create", undefined, admin), 200).data;
    expect(byAction.map((e) => e.keyName).sort()).toEqual([
      "API_KEY",
      "admin-bot",
      "admin-bot",
      "admin-bot",
      "admin-bot",
    ]);

    const middle = all[Math.floor(all.length / 2)]!;
    const since = expectStatus(
      await stack.api("GET", `/audit?since=${middle.at}&limit=200`, undefined, admin),
      200,
    ).data;
    const until = expectStatus(
      await stack.api("GET", `/audit?until=${middle.at}&limit=200`, undefined, admin),
      200,
    ).data;
    expect(since.every((e) => e.at >= middle.at)).toBe(true);
    expect(until.every((e) => e.at < middle.at)).toBe(true);
    expect(since.length + until.length).toBe(all.length);

    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const query = `/audit?limit=3${cursor ? `&cursor=${cursor}` : ""}` as const;
      const page = expectStatus(await stack.api("GET", query, undefined, admin), 200);
      paged.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(all.map((e) => e.id));

    expectStatus(await stack.api("GET", "/audit?action=webhook.explode", undefined, admin), 400);
    expectStatus(await stack.api("GET", "/audit", undefined, bearer(keys.config)), 403);
    expect((await stack.client.audit.list({ targetId: ids.webhook })).data).toHaveLength(6);
  });

  it("cannot be changed: no route edits or deletes entries, and tetik's role may not UPDATE them", async () => {
    const paths = (openApiDocument() as { paths: Record<string, Record<string, unknown>> }).paths;
    const auditPaths = Object.entries(paths).filter(([path]) => path.startsWith("/audit"));
    expect(auditPaths.map(([path, ops]) => `${path} ${Object.keys(ops).join(",")}`)).toEqual(["/audit get"]);
    const [entry] = await newest();
    expect((await stack.api("PATCH", `/audit/${entry!.id}`, { keyName: "nobody" }, bearer(bootstrap))).status).toBe(
      404,
    );
    expect((await stack.api("DELETE", `/audit/${entry!.id}`, undefined, bearer(bootstrap))).status).toBe(404);
    await expect(
      stack.deps.pool.query(`UPDATE audit_entries SET "keyName" = 'nobody' WHERE id = $1`, [entry!.id]),
    ).rejects.toMatchObject({ code: "42501" });
    const [again] = await newest();
    expect(again).toEqual(entry);
  });

  it("is pruned by the sweep once past AUDIT_RETENTION_DAYS", async () => {
    expect(stack.config.AUDIT_RETENTION_DAYS).toBe(365);
    const count = await entryCount();
    expect(count).toBeGreaterThan(0);
    const later = (days: number) => ({ ...stack.deps, now: () => new Date(Date.now() + days * DAY_MS) });
    await runSweep(later(364));
    expect(await entryCount()).toBe(count);
    await runSweep(later(366));
    expect(await entryCount()).toBe(0);
  });
});
