// The dashboard signs in with any key and offers only what its scopes allow (issue 27): a read key sees the
// pages but no button it may not press, and its POSTs are refused with the API's 403 insufficient_scope,
// changing nothing; an admin makes keys on the keys page (each shown once) and revokes them; a revoked or
// expired key's sessions stop within 10 s. Each instance is its own app on a test clock, as in
// dashboard-sessions.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardRoutes } from "../functions/dashboard/routes.tsx";
import { createApp } from "../functions/http/create-app.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { testClock, type TestClock } from "./helpers/clock.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

const API_KEY = "dashboard-keys-bootstrap-4b7e21";
const admin = { authorization: `Bearer ${API_KEY}` };
let stack: TestStack;
let receiver: Receiver;
let definitionId: string;
let webhookId: string;
let eventId: string;

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack({ worker: false, env: { API_KEY } }), startReceiver()]);
  const definition = await stack.client.definitions.create({
    name: "paid-orders",
    type: "collection.updated",
    collection: "orders",
  });
  definitionId = definition.id;
  webhookId = (await stack.client.webhooks.create({ definitionId, url: `${receiver.url}/paid` })).id;
  eventId = (
    await stack.client.events.ingest({ type: "collection.updated", collection: "orders", recordId: "o-1", data: {} })
  ).id;
}, 60_000);
afterAll(async () => {
  await Promise.all([stack?.stop(), receiver?.close()]);
});

async function makeKey(body: Record<string, unknown>) {
  return expectStatus(await stack.api("POST", "/keys", body, admin), 201);
}

const getKey = async (id: string) => expectStatus(await stack.api("GET", `/keys/${id}`, undefined, admin), 200);

/** One instance of the dashboard function, on this clock. */
function instance(clock: TestClock = testClock()) {
  const deps = { ...stack.deps, now: clock.now };
  const app = dashboardRoutes(createApp(deps), deps);
  const request = (path: string, init: RequestInit = {}) =>
    app.request(path, init, { requestContext: { http: { sourceIp: "192.0.2.30" } } });
  return {
    async signIn(key: string) {
      return request("/dashboard/sign-in", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ key }).toString(),
      });
    },
    /** Signs in with `key`: the session's cookie and its CSRF token. */
    async session(key: string) {
      const answer = await this.signIn(key);
      expect(answer.status).toBe(303);
      const cookie = answer.headers.get("set-cookie")!.split(";")[0]!;
      // The first page the key may see carries the session's CSRF token (in its sign-out form).
      let first = await this.page(cookie);
      if (first.status === 303) first = await this.page(cookie, first.headers.get("location")!);
      return { cookie, csrf: /name="csrf" value="([^"]+)"/.exec(await first.text())![1]! };
    },
    page: (cookie: string, path = "/dashboard") => request(path, { headers: { cookie } }),
    post: (cookie: string, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      request(path, {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(fields).toString(),
      }),
  };
}

const formTo = (path: string) => `action="${path}"`;

describe("a read key in the dashboard", () => {
  it("sees the reading pages, and no toggle, rotate, test, replay or keys button or link", async () => {
    const read = await makeKey({ name: "reader", scopes: ["read"] });
    const app = instance();
    const { cookie } = await app.session(read.key);

    const overview = await app.page(cookie);
    expect(overview.status).toBe(200);
    const nav = /<nav[^>]*>([\s\S]*?)<\/nav>/.exec(await overview.text())![1]!;
    expect(nav).toContain(">Events<");
    expect(nav).toContain(">Webhooks<");
    expect(nav).not.toContain("/dashboard/keys");

    const webhook = await (await app.page(cookie, `/dashboard/webhooks/${webhookId}`)).text();
    expect(webhook).toContain(`${receiver.url}/paid`);
    for (const action of ["active", "rotate-secret", "test"])
      expect(webhook).not.toContain(formTo(`/dashboard/webhooks/${webhookId}/${action}`));
    const definition = await (await app.page(cookie, `/dashboard/definitions/${definitionId}`)).text();
    expect(definition).toContain("paid-orders");
    expect(definition).not.toContain(formTo(`/dashboard/definitions/${definitionId}/active`));
    // A dry run is a read (POST /definitions/{id}/dry-run allows read): its form stays.
    expect(definition).toContain(formTo(`/dashboard/definitions/${definitionId}/dry-run`));
    const event = await (await app.page(cookie, `/dashboard/events/${eventId}`)).text();
    expect(event).toContain(eventId);
    expect(event).not.toContain(formTo(`/dashboard/events/${eventId}/replay`));

    const keysPage = await app.page(cookie, "/dashboard/keys");
    expect(keysPage.status).toBe(403);
    expect(await keysPage.text()).toContain("insufficient_scope");

    // The same pages under API_KEY have every button: the ones above were hidden, not missing.
    const bootstrap = await app.session(API_KEY);
    const full = await (await app.page(bootstrap.cookie, `/dashboard/webhooks/${webhookId}`)).text();
    for (const action of ["active", "rotate-secret", "test"])
      expect(full).toContain(formTo(`/dashboard/webhooks/${webhookId}/${action}`));
    expect(await (await app.page(bootstrap.cookie, `/dashboard/events/${eventId}`)).text()).toContain(
      formTo(`/dashboard/events/${eventId}/replay`),
    );
    expect(await (await app.page(bootstrap.cookie)).text()).toContain('href="/dashboard/keys"');
  });

  it("is refused each action with 403 insufficient_scope, as the API refuses it, and nothing changes", async () => {
    const read = await makeKey({ name: "reader 2", scopes: ["read"] });
    const other = await makeKey({ name: "someone else", scopes: ["ingest"] });
    const app = instance();
    const { cookie, csrf } = await app.session(read.key);
    const secretBefore = (await stack.owner.query(`SELECT secret FROM webhooks WHERE id = $1`, [webhookId])).rows[0];
    const eventBefore = await stack.client.events.get(eventId);
    const keysBefore = Number((await stack.owner.query(`SELECT count(*)::int AS n FROM api_keys`)).rows[0].n);
    const delivered = receiver.requests.length;

    const posts: Array<[string, Record<string, string>]> = [
      [`/dashboard/webhooks/${webhookId}/active`, { active: "false" }],
      [`/dashboard/webhooks/${webhookId}/rotate-secret`, {}],
      [`/dashboard/webhooks/${webhookId}/test`, {}],
      [`/dashboard/definitions/${definitionId}/active`, { active: "false" }],
      [`/dashboard/events/${eventId}/replay`, { all: "true" }],
      ["/dashboard/keys", { name: "sneaky", "scope-admin": "on" }],
      [`/dashboard/keys/${other.id}/revoke`, {}],
    ];
    for (const [path, fields] of posts) {
      const answer = await app.post(cookie, path, { csrf, ...fields });
      expect(answer.status, path).toBe(403);
      const html = await answer.text();
      expect(html, path).toContain('<code id="error-code">insufficient_scope</code>');
      expect(html, path).toContain("the key &quot;reader 2&quot; has the scopes read; this needs");
    }

    // Asked for JSON, the refusal is the API's own answer to the same key on the same route.
    const json = await app.post(
      cookie,
      `/dashboard/webhooks/${webhookId}/rotate-secret`,
      { csrf },
      { accept: "application/json" },
    );
    const api = expectError(
      await stack.api("POST", `/webhooks/${webhookId}/rotate-secret`, undefined, {
        authorization: `Bearer ${read.key}`,
      }),
      403,
      "insufficient_scope",
    );
    expect(json.status).toBe(403);
    expect(await json.json()).toEqual({ error: api });

    expect((await stack.client.webhooks.get(webhookId)).active).toBe(true);
    expect((await stack.owner.query(`SELECT secret FROM webhooks WHERE id = $1`, [webhookId])).rows[0]).toEqual(
      secretBefore,
    );
    expect((await stack.client.definitions.get(definitionId)).active).toBe(true);
    expect(await stack.client.events.get(eventId)).toEqual(eventBefore);
    expect(Number((await stack.owner.query(`SELECT count(*)::int AS n FROM api_keys`)).rows[0].n)).toBe(keysBefore);
    expect((await getKey(other.id)).revokedAt).toBeNull();
    expect(receiver.requests.length).toBe(delivered);
  });
});

describe("a config key in the dashboard", () => {
  it("starts at the definitions (no event log), and may turn a webhook off and on", async () => {
    const config = await makeKey({ name: "configurer", scopes: ["config"] });
    const app = instance();
    const { cookie, csrf } = await app.session(config.key);
    const start = await app.page(cookie);
    expect(start.status).toBe(303);
    expect(start.headers.get("location")).toBe("/dashboard/definitions");
    expect((await app.page(cookie, "/dashboard/events")).status).toBe(403);
    const webhook = await (await app.page(cookie, `/dashboard/webhooks/${webhookId}`)).text();
    expect(webhook).toContain(formTo(`/dashboard/webhooks/${webhookId}/rotate-secret`));

    expect((await app.post(cookie, `/dashboard/webhooks/${webhookId}/active`, { csrf, active: "false" })).status).toBe(
      303,
    );
    expect((await stack.client.webhooks.get(webhookId)).active).toBe(false);
    await app.post(cookie, `/dashboard/webhooks/${webhookId}/active`, { csrf, active: "true" });
    expect((await stack.client.webhooks.get(webhookId)).active).toBe(true);
  });
});

describe("the keys page", () => {
  it("lets an admin key make a key, shown once on the answer page and never again", async () => {
    const adminKey = await makeKey({ name: "ops admin", scopes: ["admin"] });
    const app = instance();
    const { cookie, csrf } = await app.session(adminKey.key);
    const list = await app.page(cookie, "/dashboard/keys");
    expect(list.status).toBe(200);
    expect(await list.text()).toContain("ops admin");

    const refused = await app.post(cookie, "/dashboard/keys", { csrf, name: "no scopes" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("scopes:");

    const made = await app.post(cookie, "/dashboard/keys", {
      csrf,
      name: "orders-service",
      "scope-ingest": "on",
      collections: "orders, invoices",
      expiresAt: "2099-01-01T00:00",
    });
    expect(made.status).toBe(200);
    const key = /<pre class="json" id="new-key">\s*(tk_[A-Za-z0-9_-]+)\s*<\/pre>/.exec(await made.text())?.[1];
    expect(key).toBeDefined();

    // The key works on the API, with what the form said.
    const row = expectStatus(await stack.api("GET", "/keys?limit=100", undefined, admin), 200).data.find(
      (k) => k.name === "orders-service",
    )!;
    expect(row).toMatchObject({ scopes: ["ingest"], collections: ["orders", "invoices"] });
    expect(row.expiresAt).toBe("2099-01-01T00:00:00.000Z");
    expect(row.prefix).toBe(key!.slice(3, 9));
    const ingested = await stack.api(
      "POST",
      "/events",
      { type: "collection.created", collection: "orders", recordId: "o-9", data: {} },
      { authorization: `Bearer ${key}` },
    );
    expect(ingested.status).toBe(202);

    // A reload of the keys page lists it (by its prefix), never the key itself.
    const reloaded = await (await app.page(cookie, "/dashboard/keys")).text();
    expect(reloaded).toContain("orders-service");
    expect(reloaded).toContain(`tk_${row.prefix}`);
    expect(reloaded).not.toContain(key!);
    expect(reloaded).not.toContain('id="new-key"');
  });

  it("revokes a key: its dashboard sessions end at once, and it signs in no more", async () => {
    const clock = testClock();
    const app = instance(clock);
    const victim = await makeKey({ name: "to revoke", scopes: ["read"] });
    const victimSession = await app.session(victim.key);
    expect((await app.page(victimSession.cookie)).status).toBe(200);

    const { cookie, csrf } = await app.session(API_KEY);
    const page = await (await app.page(cookie, "/dashboard/keys")).text();
    expect(page).toContain(formTo(`/dashboard/keys/${victim.id}/revoke`));
    const revoked = await app.post(cookie, `/dashboard/keys/${victim.id}/revoke`, { csrf });
    expect(revoked.status).toBe(303);
    expect((await getKey(victim.id)).revokedAt).not.toBeNull();
    const after = await (await app.page(cookie, "/dashboard/keys")).text();
    expect(after).not.toContain(formTo(`/dashboard/keys/${victim.id}/revoke`));

    const refused = await app.page(victimSession.cookie);
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toBe("/dashboard/sign-in");
    // Signing in again with it is refused once this process's lookup has forgotten it (5 s).
    clock.advance(5_000);
    expect((await app.signIn(victim.key)).status).toBe(401);
  });
});

describe("the audit page", () => {
  it("is for admins: lists changes made in the dashboard, filtered, with the changed fields highlighted", async () => {
    const app = instance();
    const reader = await app.session((await makeKey({ name: "audit reader", scopes: ["read"] })).key);
    expect((await app.page(reader.cookie, "/dashboard/audit")).status).toBe(403);
    expect(await (await app.page(reader.cookie, "/dashboard/events")).text()).not.toContain('href="/dashboard/audit"');

    const auditor = await makeKey({ name: "auditor", scopes: ["admin"] });
    const { cookie, csrf } = await app.session(auditor.key);
    expect(await (await app.page(cookie)).text()).toContain('href="/dashboard/audit"');
    await app.post(cookie, `/dashboard/webhooks/${webhookId}/active`, { csrf, active: "false" });
    await app.post(cookie, `/dashboard/webhooks/${webhookId}/active`, { csrf, active: "true" });

    const disabled = await app.page(cookie, `/dashboard/audit?action=webhook.disable&keyId=${auditor.id}`);
    expect(disabled.status).toBe(200);
    const html = await disabled.text();
    const rows = html.split("<tr><td><time").slice(1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain("auditor");
    expect(rows[0]).toContain(`href="/dashboard/webhooks/${webhookId}"`);
    // Field by field: what changed is marked, what did not is shown plainly.
    const cell = (text: string) => `<td class="mono">${text}</td>`;
    expect(rows[0]).toContain(
      `<tr class="changed"><td class="mono nowrap">active</td>${cell("true")}${cell("false")}</tr>`,
    );
    expect(rows[0]).toContain(`<tr class="same"><td class="mono nowrap">url</td>`);
    expect(rows[0]).toContain("retry.maxAttempts");

    const enabled = await (await app.page(cookie, `/dashboard/audit?action=webhook.enable&keyId=${auditor.id}`)).text();
    expect(enabled).toContain("webhook.enable");
    expect(enabled).not.toContain('<td class="mono">webhook.disable</td>');

    const about = await (await app.page(cookie, `/dashboard/audit?targetId=${webhookId}&keyId=${auditor.id}`)).text();
    expect(about.split("<tr><td><time").slice(1)).toHaveLength(2);

    const wrong = await app.page(cookie, "/dashboard/audit?since=yesterday");
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain("since:");
  });
});

describe("a session of a key made through the API", () => {
  it("stops within 10 s of the key's revocation, even where its session row is left", async () => {
    const clock = testClock();
    const app = instance(clock);
    const key = await makeKey({ name: "revoked elsewhere", scopes: ["read"] });
    const { cookie } = await app.session(key.key);
    expect((await app.page(cookie)).status).toBe(200);
    // Revoked by another process whose deletion of the sessions this one does not see: only the lookup can tell.
    await stack.owner.query(`UPDATE api_keys SET "revokedAt" = now() WHERE id = $1`, [key.id]);
    clock.advance(10_000);
    const refused = await app.page(cookie);
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toBe("/dashboard/sign-in");
  });

  it("stops when the key expires", async () => {
    const clock = testClock();
    const app = instance(clock);
    const key = await makeKey({
      name: "short-lived",
      scopes: ["read"],
      expiresAt: new Date(clock.now().getTime() + 60_000).toISOString(),
    });
    const { cookie } = await app.session(key.key);
    clock.advance(59_000);
    expect((await app.page(cookie)).status).toBe(200);
    clock.advance(2_000);
    expect((await app.page(cookie)).status).toBe(303);
  });
});
