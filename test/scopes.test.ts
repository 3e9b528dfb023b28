// Who may do what: keys made with POST /keys carry scopes, and every route of the OpenAPI document says
// which may call it. The matrix below is generated from the document: every route, every scope, against
// the running stack; a key outside a route's scopes gets 403 insufficient_scope and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCOPES, type Scope } from "../functions/domain/keys/scopes.ts";
import { openApiDocument } from "../functions/api/contract/openapi-document.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

const API_KEY = "scopes-test-bootstrap-key-0123";
const admin = { authorization: `Bearer ${API_KEY}` };
let stack: TestStack;
const keys = {} as Record<Scope | "ordersOnly", { id: string; key: string }>;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function makeKey(body: Record<string, unknown>) {
  return expectStatus(await stack.api("POST", "/keys", body, admin), 201);
}

beforeAll(async () => {
  stack = await startStack({ worker: false, env: { API_KEY } });
  for (const scope of SCOPES) keys[scope] = await makeKey({ name: `${scope} key`, scopes: [scope] });
  keys.ordersOnly = await makeKey({ name: "orders ingest", scopes: ["ingest"], collections: ["orders"] });
});
afterAll(async () => {
  await stack?.stop();
});

interface Operation {
  security?: Array<Record<string, string[]>>;
}

/** Every secured route of the document, with the scopes that may call it. */
function securedRoutes() {
  const paths = (openApiDocument() as { paths: Record<string, Record<string, Operation>> }).paths;
  return Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.security === undefined || op.security.length > 0)
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        // Ids that name nothing and a collection that exists by name: a request that gets past the scope
        // check is answered 400 or 404 (or 2xx for a read or an empty replay), never 403.
        path: path.replace("{collection}", "orders").replace(/\{[^}]+\}/g, "nothing_here"),
        scopes: (op.security ?? []).map((requirement) => requirement.apiKey?.[0]),
      })),
  );
}

describe("the scope matrix", () => {
  it("answers every route for every scope as the document says, and changes nothing when it refuses", async () => {
    const routes = securedRoutes();
    expect(routes.length).toBeGreaterThan(30);
    const seen: string[] = [];
    for (const route of routes) {
      for (const scope of SCOPES) {
        const allowed = scope === "admin" || route.scopes.includes(scope);
        const body = ["POST", "PATCH", "PUT"].includes(route.method) ? {} : undefined;
        const answer = await stack.api(route.method, route.path, body, bearer(keys[scope].key));
        const what = `${route.method} ${route.path} with ${scope}: ${answer.status}`;
        if (allowed) expect([401, 403], what).not.toContain(answer.status);
        else {
          expect(answer.status, what).toBe(403);
          expect((answer.body as { error: { code: string } }).error.code, what).toBe("insufficient_scope");
        }
        seen.push(`${scope}:${allowed ? "yes" : "no"}`);
      }
    }
    // Each scope is both allowed somewhere and refused somewhere (admin: allowed everywhere).
    for (const scope of SCOPES.filter((s) => s !== "admin")) {
      expect(seen).toContain(`${scope}:yes`);
      expect(seen).toContain(`${scope}:no`);
    }
    expect(await stack.deps.db.eventDefinition.count()).toBe(0);
    // The changes that were allowed (keys made, empty replays) are audited, each with its operational
    // event config.changed in the collection tetik: no other event was written.
    expect(await stack.deps.db.eventLog.count({ where: { collection: { not: "tetik" } } })).toBe(0);
  });

  it("lets an ingest key limited to some collections write there only", async () => {
    const key = bearer(keys.ordersOnly.key);
    const event = (collection: string) => ({ type: "collection.created", collection, recordId: "r-1", data: {} });
    expectStatus(await stack.api("POST", "/events", event("orders"), key), 202);
    expectError(await stack.api("POST", "/events", event("invoices"), key), 403, "insufficient_scope");
    expectError(
      await stack.api("POST", "/events/batch", { events: [event("orders"), event("invoices")] }, key),
      403,
      "insufficient_scope",
    );
    expectStatus(await stack.api("POST", "/collections/orders/records", { data: { n: 1 } }, key), 201);
    expectError(
      await stack.api("POST", "/collections/invoices/records", { data: { n: 1 } }, key),
      403,
      "insufficient_scope",
    );
    expect(await stack.deps.db.eventLog.count({ where: { collection: "invoices" } })).toBe(0);
    expect(await stack.deps.db.record.count({ where: { collection: "invoices" } })).toBe(0);
  });
});

describe("keys", () => {
  it("are kept as digests only, shown once, and name when they were last used", async () => {
    const made = await makeKey({ name: "shown once", scopes: ["read"] });
    expect(made.key).toMatch(/^tk_[A-Za-z0-9_-]{43}$/);
    const shown = expectStatus(await stack.api("GET", `/keys/${made.id}`, undefined, admin), 200);
    expect(shown).not.toHaveProperty("key");
    expect(shown).toMatchObject({ name: "shown once", scopes: ["read"], prefix: made.key.slice(3, 9) });
    const listed = expectStatus(await stack.api("GET", "/keys", undefined, admin), 200);
    expect(JSON.stringify(listed)).not.toContain(made.key.slice(9));
    // No key text anywhere in the table: every key made in this file, looked for in every column.
    const { rows } = await stack.owner.query("SELECT row_to_json(k)::text AS row FROM api_keys k");
    const dump = rows.map((r: { row: string }) => r.row).join("\n");
    for (const { key } of [...Object.values(keys), made]) expect(dump).not.toContain(key.slice(9));

    expectStatus(await stack.api("GET", "/events", undefined, bearer(made.key)), 200);
    await waitFor(async () => (await stack.deps.db.apiKey.findUniqueOrThrow({ where: { id: made.id } })).lastUsedAt, {
      what: "lastUsedAt to be written",
    });
  });

  it("are refused everywhere within 10 seconds of their revocation, and when they expire", async () => {
    const made = await makeKey({ name: "to revoke", scopes: ["read"] });
    expectStatus(await stack.api("GET", "/events", undefined, bearer(made.key)), 200);
    expect((await stack.api("DELETE", `/keys/${made.id}`, undefined, admin)).status).toBe(204);
    await waitFor(async () => (await stack.api("GET", "/events", undefined, bearer(made.key))).status === 401, {
      timeoutMs: 10_000,
      what: "the revoked key to be refused",
    });
    const revoked = expectStatus(await stack.api("GET", `/keys/${made.id}`, undefined, admin), 200);
    expect(revoked.revokedAt).not.toBeNull();

    const expiring = await makeKey({
      name: "short-lived",
      scopes: ["read"],
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    expectStatus(await stack.api("GET", "/events", undefined, bearer(expiring.key)), 200);
    await waitFor(async () => (await stack.api("GET", "/events", undefined, bearer(expiring.key))).status === 401, {
      timeoutMs: 10_000,
      what: "the expired key to be refused",
    });
  });

  it("are made by admins only, with scopes that exist", async () => {
    expectError(
      await stack.api("POST", "/keys", { name: "x", scopes: ["read"] }, bearer(keys.config.key)),
      403,
      "insufficient_scope",
    );
    expectError(await stack.api("POST", "/keys", { name: "x", scopes: ["root"] }, admin), 400, "invalid_request");
    expectError(await stack.api("POST", "/keys", { name: "x", scopes: [] }, admin), 400, "invalid_request");
    // An admin key may make keys too.
    expectStatus(
      await stack.api("POST", "/keys", { name: "by admin key", scopes: ["read"] }, bearer(keys.admin.key)),
      201,
    );
  });
});
