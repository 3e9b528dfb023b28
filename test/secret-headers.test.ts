// Secret header values (issue 26: "custom header values, receivers' tokens, stored and shown in clear"):
// sealed with SECRETS_KEY, sent on deliveries and test deliveries, never in an answer, a page or a dry run.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { reencryptSecrets } from "../functions/domain/webhooks/reencrypt-secrets.ts";
import { testWebhook } from "../functions/domain/webhooks/test-webhook.ts";
import { LIMITS } from "../functions/domain/limits.ts";
import { loadConfig } from "../functions/platform/config.ts";
import { closeDeps, createDeps } from "../functions/platform/deps.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import type { Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack, withStackAndReceiver } from "./helpers/stack.ts";

const KEY = randomBytes(32).toString("base64");
const TOKEN = "Bearer tok-4f9a2c7e1d";
const ROTATED = "Bearer tok-88b1e0c3aa";

let stack: TestStack;
let receiver: Receiver;
withStackAndReceiver((started) => ({ stack, receiver } = started), { env: { SECRETS_KEY: KEY } });

/** Everything a reader can get about the webhook, as text: API answers and dashboard pages. */
async function everythingShown(hookId: string, definitionId: string, on = stack): Promise<string> {
  const answers = await Promise.all([
    on.api("GET", `/webhooks/${hookId}`),
    on.api("GET", "/webhooks"),
    on.api("GET", `/webhooks?definitionId=${definitionId}`),
    on.api("GET", `/definitions/${definitionId}`),
    on.api("GET", `/dashboard/webhooks/${hookId}`),
    on.api("GET", "/dashboard/webhooks"),
  ]);
  for (const answer of answers) expect(answer.status).toBe(200);
  return answers.map((a) => (typeof a.body === "string" ? a.body : JSON.stringify(a.body))).join("\n");
}

/** The webhook's row as Postgres holds it, every column. */
async function storedRow(id: string): Promise<string> {
  const { rows } = await stack.owner.query<{ row: string }>(
    `SELECT to_jsonb(w)::text AS row FROM webhooks w WHERE id = $1`,
    [id],
  );
  return rows[0]!.row;
}

describe("secret headers", () => {
  it("are sealed at rest, sent on deliveries and tests, and never shown", async () => {
    const definition = await createDefinition(stack, { name: "secret-hdr", collection: "secret_hdr" });
    const created = expectStatus(
      await stack.api("POST", "/webhooks", {
        definitionId: definition.id,
        url: `${receiver.url}/secret`,
        headers: { "x-team": "billing" },
        secretHeaders: { Authorization: TOKEN },
      }),
      201,
    );
    expect(created).toMatchObject({ headers: { "x-team": "billing" }, secretHeaders: ["authorization"] });
    expect(JSON.stringify(created)).not.toContain("tok-");

    // In Postgres: sealed with SECRETS_KEY, the token nowhere in the row.
    const row = await storedRow(created.id);
    expect(row).not.toContain("tok-4f9a2c7e1d");
    const { secretHeaders } = await stack.deps.db.webhook.findUniqueOrThrow({ where: { id: created.id } });
    expect((secretHeaders as Record<string, string>).authorization).toMatch(/^enc:v1:/);

    // A delivery carries it, beside the plain header and the signature.
    await waitForEvent(stack, await postEvent(stack, { collection: "secret_hdr", data: { n: 1 } }));
    const [delivered] = receiver.at("/secret");
    expect(delivered!.headers).toMatchObject({ authorization: TOKEN, "x-team": "billing" });
    expect(delivered!.headers["webhook-signature"]).toMatch(/^v1,/);

    // A test delivery too.
    const test = expectStatus(await stack.api("POST", `/webhooks/${created.id}/test`, {}), 200);
    expect(test.ok).toBe(true);
    expect(receiver.at("/secret")[1]!.headers.authorization).toBe(TOKEN);

    // Answers and pages name it, never show its value.
    const shown = await everythingShown(created.id, definition.id);
    expect(shown).toContain("authorization");
    expect(shown).not.toContain("tok-4f9a2c7e1d");

    // A dry run shows the request as it would go out, the secret's value redacted.
    const dry = expectStatus(
      await stack.api("POST", `/definitions/${definition.id}/dry-run`, {
        event: { type: "collection.created", collection: "secret_hdr", recordId: "r-1", data: {} },
      }),
      200,
    );
    expect(dry.definitions[0]!.webhooks[0]!.request!.headers).toMatchObject({
      authorization: "[secret]",
      "x-team": "billing",
    });
    expect(JSON.stringify(dry)).not.toContain("tok-");
    const inline = expectStatus(
      await stack.api("POST", "/dry-run", {
        event: { type: "collection.created", collection: "secret_inline", recordId: "r-1", data: {} },
        definition: { name: "inline", type: "collection.created", collection: "secret_inline" },
        webhooks: [{ url: "https://example.com/hook", secretHeaders: { "X-Api-Key": "key-inline-77" } }],
      }),
      200,
    );
    expect(inline.definitions[0]!.webhooks[0]!.request!.headers).toMatchObject({ "x-api-key": "[secret]" });
    expect(JSON.stringify(inline)).not.toContain("key-inline-77");
  });

  it("change by name on PATCH: a value replaces, null removes, the rest stay", async () => {
    const definition = await createDefinition(stack, { name: "secret-patch", collection: "secret_patch" });
    const hook = await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/patch`,
      secretHeaders: { authorization: TOKEN, "x-old": "old-value-1" },
    });
    const patched = expectStatus(
      await stack.api("PATCH", `/webhooks/${hook.id}`, {
        secretHeaders: { AUTHORIZATION: ROTATED, "x-old": null, "x-api-key": "key-2b7f" },
      }),
      200,
    );
    expect(patched.secretHeaders).toEqual(["authorization", "x-api-key"]);
    // A PATCH of something else keeps them.
    expectStatus(await stack.api("PATCH", `/webhooks/${hook.id}`, { headers: { "x-team": "ops" } }), 200);

    await waitForEvent(stack, await postEvent(stack, { collection: "secret_patch" }));
    const [delivered] = receiver.at("/patch");
    expect(delivered!.headers).toMatchObject({ authorization: ROTATED, "x-api-key": "key-2b7f", "x-team": "ops" });
    expect(delivered!.headers).not.toHaveProperty("x-old");
    expect(await storedRow(hook.id)).not.toMatch(/tok-88b1e0c3aa|key-2b7f|old-value-1/);
  });

  it("are sealed anew by secrets:reencrypt, and read with the new key alone", async () => {
    const definition = await createDefinition(stack, { name: "secret-rotate", collection: "secret_rotate" });
    const hook = await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/rotate`,
      secretHeaders: { authorization: TOKEN },
    });
    const before = await storedRow(hook.id);
    const newKey = randomBytes(32).toString("base64");
    const withKeys = (keys: Record<string, string>) =>
      createDeps(loadConfig({ ...stack.env, SECRETS_KEY_PREVIOUS: "", ...keys }), "test", 2);
    const [rotating, rotated] = [
      withKeys({ SECRETS_KEY: newKey, SECRETS_KEY_PREVIOUS: KEY }),
      withKeys({ SECRETS_KEY: newKey }),
    ];
    try {
      const { resealed } = await reencryptSecrets(rotating);
      expect(resealed).toBeGreaterThanOrEqual(1);
      expect(await reencryptSecrets(rotating)).toMatchObject({ resealed: 0 });
      const after = await storedRow(hook.id);
      expect(after).not.toBe(before);
      expect(after).not.toContain("tok-4f9a2c7e1d");
      expect((await testWebhook(rotated, hook.id)).ok).toBe(true);
      expect(receiver.at("/rotate")[0]!.headers.authorization).toBe(TOKEN);
    } finally {
      await Promise.all([rotating, rotated].map(closeDeps));
    }
  });

  it("without SECRETS_KEY are stored as they are, and still never shown", async () => {
    const plain = await startStack({ worker: false });
    try {
      const definition = await createDefinition(plain, { name: "secret-plain", collection: "secret_plain" });
      const hook = await createWebhook(plain, {
        definitionId: definition.id,
        url: "https://example.com/hook",
        secretHeaders: { authorization: TOKEN },
      });
      expect(JSON.stringify(hook)).not.toContain("tok-");
      const row = await plain.deps.db.webhook.findUniqueOrThrow({ where: { id: hook.id } });
      expect(row.secretHeaders).toEqual({ authorization: TOKEN });
      const shown = await everythingShown(hook.id, definition.id, plain);
      expect(shown).toContain("authorization");
      expect(shown).not.toContain("tok-4f9a2c7e1d");
    } finally {
      await plain.stop();
    }
  });

  it("refuses bad secret headers with a 400 naming the field, and changes nothing", async () => {
    const definition = await createDefinition(stack, { name: "secret-bad", collection: "secret_bad" });
    const hook = await createWebhook(stack, {
      definitionId: definition.id,
      url: "https://example.com/hook",
      headers: { "x-team": "billing" },
      secretHeaders: { authorization: TOKEN },
    });
    const before = await storedRow(hook.id);
    const count = await stack.deps.db.webhook.count();
    const many = (n: number, prefix: string) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}-${i}`, "v"]));
    const creates: Array<[Record<string, unknown>, string]> = [
      [{ secretHeaders: { "webhook-signature": "forged" } }, "secretHeaders.webhook-signature"],
      [{ secretHeaders: { "bad name": "x" } }, "secretHeaders.bad name"],
      [{ secretHeaders: { "x-k": "line\nbreak" } }, "secretHeaders.x-k"],
      [{ secretHeaders: { "x-k": "x".repeat(LIMITS.headerValueChars + 1) } }, "secretHeaders.x-k"],
      [{ secretHeaders: { "x-k": null } }, "secretHeaders.x-k"],
      [{ secretHeaders: { "X-K": "a", "x-k": "b" } }, "secretHeaders.x-k"],
      [{ headers: { "X-Token": "a" }, secretHeaders: { "x-token": "b" } }, "secretHeaders.x-token"],
      [{ headers: many(30, "x-p"), secretHeaders: many(LIMITS.webhookHeaders - 29, "x-s") }, "secretHeaders"],
    ];
    for (const [body, path] of creates) {
      const answer = await stack.api("POST", "/webhooks", {
        definitionId: definition.id,
        url: "https://example.com/hook",
        ...body,
      });
      expect(expectError(answer, 400, "invalid_request").message, JSON.stringify(body).slice(0, 200)).toContain(path);
    }
    const patches: Array<[Record<string, unknown>, string]> = [
      [{ secretHeaders: { "content-type": "text/plain" } }, "secretHeaders.content-type"],
      [{ secretHeaders: { "x-team": "now secret" } }, "secretHeaders.x-team"],
      [{ headers: { Authorization: "plain now" } }, "headers.Authorization"],
      [{ secretHeaders: many(LIMITS.webhookHeaders, "x-s") }, "secretHeaders"],
    ];
    for (const [body, path] of patches) {
      const answer = await stack.api("PATCH", `/webhooks/${hook.id}`, body);
      expect(expectError(answer, 400, "invalid_request").message, JSON.stringify(body).slice(0, 200)).toContain(path);
    }
    expect(await stack.deps.db.webhook.count()).toBe(count);
    expect(await storedRow(hook.id)).toBe(before);
  });
});
