// "Why did (or didn't) it fire?": GET /events/{id}/explain over every operator family, field.updated with
// and without previous values, inactive and deleted definitions, a chain stopped by the depth limit; and
// dry runs that change nothing while showing the request a real delivery then sends byte for byte.
import { describe, expect, it } from "vitest";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import type { Receiver } from "./helpers/receiver.ts";
import { type TestStack, withStackAndReceiver } from "./helpers/stack.ts";

let stack: TestStack;
let receiver: Receiver;
withStackAndReceiver((started) => ({ stack, receiver } = started), {
  env: { TRIGGER_MAX_DEPTH: "1", TRIGGER_MAX_RECORDS: "2" },
});

async function explain(id: string) {
  return expectStatus(await stack.api("GET", `/events/${id}/explain`), 200);
}
type Explained = Awaited<ReturnType<typeof explain>>["definitions"];
const byName = <D extends { definition: { name: string | null } }>(definitions: D[], name: string) =>
  definitions.find((d) => d.definition.name === name)!;
/** Every clause's text, its parts' included (the contract types a part loosely: a clause like its parent). */
const texts = (clauses: readonly Record<string, unknown>[]): string[] =>
  clauses.flatMap((c) => [String(c.text), ...texts(Array.isArray(c.clauses) ? c.clauses : [])]);

describe("GET /events/{id}/explain", () => {
  it("explains every operator family clause by clause, for an event that matches and one that does not", async () => {
    const families: Record<string, Record<string, unknown>> = {
      comparison: { "data.total": { $gt: 100, $lte: 500 }, "data.currency": "EUR", "data.items": { $ne: 0 } },
      lists: { "data.status": { $in: ["paid", "shipped"] }, "data.country": { $nin: ["XX"] } },
      exists: { "data.coupon": { $exists: false }, "data.total": { $exists: true } },
      logical: {
        $and: [{ "data.total": { $gte: 10 } }],
        $or: [{ "data.vip": true }, { "data.total": { $gt: 100 } }],
        $nor: [{ "data.country": "XX" }],
        "data.currency": { $not: { $eq: "USD" } },
      },
      arrays: { "data.tags": { $all: ["a", "b"], $size: 3 }, "data.lines": { $elemMatch: { qty: { $gt: 1 } } } },
    };
    for (const [name, condition] of Object.entries(families))
      await createDefinition(stack, { name, collection: "shop", condition });

    const hit = await postEvent(stack, {
      collection: "shop",
      recordId: "s-1",
      data: {
        total: 120,
        currency: "EUR",
        items: 2,
        status: "paid",
        country: "DE",
        tags: ["a", "b", "c"],
        lines: [{ qty: 1 }, { qty: 3 }],
      },
    });
    await waitForEvent(stack, hit);
    const matched = (await explain(hit)).definitions;
    for (const name of Object.keys(families)) {
      expect(byName(matched, name).matched, name).toBe(true);
      expect(byName(matched, name).produced, name).toEqual([]); // no webhook or trigger: a match produces nothing here
    }
    // Sorted: Postgres keeps a condition's keys in its own order.
    const sorted = (name: string, list: Explained = matched) => texts(byName(list, name).why!.condition.clauses).sort();
    expect(sorted("comparison")).toEqual(
      [
        "data.total $gt 100: 120 -> true",
        "data.total $lte 500: 120 -> true",
        'data.currency = "EUR": "EUR" -> true',
        "data.items $ne 0: 2 -> true",
      ].sort(),
    );
    expect(sorted("lists")).toEqual(
      ['data.status $in ["paid","shipped"]: "paid" -> true', 'data.country $nin ["XX"]: "DE" -> true'].sort(),
    );
    expect(sorted("exists")).toEqual(
      ["data.coupon $exists false: (missing) -> true", "data.total $exists true: 120 -> true"].sort(),
    );
    const logical = texts(byName(matched, "logical").why!.condition.clauses);
    expect(logical).toEqual(
      expect.arrayContaining([
        "$and of 1: -> true",
        "$or of 2: -> true",
        '{"data.vip":true} -> false',
        "data.vip = true: (missing) -> false",
        "data.total $gt 100: 120 -> true",
        "$nor of 1: -> true",
        'data.currency $not {"$eq":"USD"}: "EUR" -> true',
        'data.currency $eq "USD": "EUR" -> false',
      ]),
    );
    expect(sorted("arrays")).toEqual(
      [
        'data.tags $all ["a","b"]: ["a","b","c"] -> true',
        'data.tags $size 3: ["a","b","c"] -> true',
        'data.lines $elemMatch {"qty":{"$gt":1}}: [{"qty":1},{"qty":3}] -> true',
      ].sort(),
    );

    const miss = await postEvent(stack, {
      collection: "shop",
      recordId: "s-2",
      data: {
        total: 80,
        currency: "USD",
        items: 0,
        status: "new",
        country: "XX",
        coupon: "X",
        tags: ["a"],
        lines: [{ qty: 1 }],
      },
    });
    await waitForEvent(stack, miss);
    const missed = (await explain(miss)).definitions;
    for (const name of Object.keys(families)) expect(byName(missed, name).matched, name).toBe(false);
    expect(texts(byName(missed, "comparison").why!.condition.clauses)).toContain("data.total $gt 100: 80 -> false");
    expect(texts(byName(missed, "lists").why!.condition.clauses)).toContain(
      'data.status $in ["paid","shipped"]: "new" -> false',
    );
    expect(texts(byName(missed, "exists").why!.condition.clauses)).toContain('data.coupon $exists false: "X" -> false');
    expect(texts(byName(missed, "logical").why!.condition.clauses)).toContain("$nor of 1: -> false");
    expect(texts(byName(missed, "arrays").why!.condition.clauses)).toContain('data.tags $size 3: ["a"] -> false');
  });

  it("explains field.updated with and without previous values, an inactive definition, and a deleted one", async () => {
    await createDefinition(stack, {
      name: "price-changed",
      type: "field.updated",
      collection: "items",
      fields: ["price"],
    });
    await createDefinition(stack, { name: "dormant", type: "collection.updated", collection: "items", active: false });
    const doomed = await createDefinition(stack, { name: "doomed", type: "collection.updated", collection: "items" });
    await createWebhook(stack, { definitionId: doomed.id, url: `${receiver.url}/doomed` });

    const withPrevious = await postEvent(stack, {
      type: "collection.updated",
      collection: "items",
      recordId: "i-1",
      data: { price: 5, name: "x" },
      previous: { price: 5, name: "y" },
    });
    await waitForEvent(stack, withPrevious);
    await stack.client.definitions.delete(doomed.id);
    const first = (await explain(withPrevious)).definitions;
    expect(byName(first, "price-changed")).toMatchObject({
      matched: false,
      why: { type: { passed: false, text: 'field.updated watches ["price"]; the update changed ["name"] -> false' } },
    });
    expect(byName(first, "dormant")).toMatchObject({
      matched: false,
      why: { active: { passed: false, text: "inactive: an inactive definition never fires" } },
    });
    const deleted = first.find((d) => d.deleted)!;
    expect(deleted).toMatchObject({
      definition: { id: doomed.id, name: null },
      matched: null,
      why: null,
      produced: [{ kind: "webhook", status: "completed" }],
    });

    const withoutPrevious = await postEvent(stack, {
      type: "collection.updated",
      collection: "items",
      recordId: "i-2",
      data: { price: 7 },
    });
    await waitForEvent(stack, withoutPrevious);
    const second = (await explain(withoutPrevious)).definitions;
    expect(byName(second, "price-changed")).toMatchObject({
      matched: true,
      why: {
        type: {
          passed: true,
          text:
            'field.updated watches ["price"]; the update carries no previous values, so every field it has ' +
            'counts as changed: ["price"] -> true (price)',
        },
      },
    });
  });

  it("explains from draft to published, over old and new values, and a real miss", async () => {
    const posts = await createDefinition(stack, {
      name: "published",
      type: "collection.updated",
      collection: "posts",
      condition: { "previous.status": "draft", "data.status": "published" },
    });
    await createWebhook(stack, { definitionId: posts.id, url: `${receiver.url}/posts` });
    const published = await postEvent(stack, {
      type: "collection.updated",
      collection: "posts",
      recordId: "p-1",
      data: { status: "published" },
      previous: { status: "draft" },
    });
    const edited = await postEvent(stack, {
      type: "collection.updated",
      collection: "posts",
      recordId: "p-1",
      data: { status: "published", title: "t" },
      previous: { status: "published" },
    });
    await Promise.all([waitForEvent(stack, published), waitForEvent(stack, edited)]);
    expect(byName((await explain(published)).definitions, "published")).toMatchObject({
      matched: true,
      produced: [{ kind: "webhook", status: "completed" }],
    });
    const miss = byName((await explain(edited)).definitions, "published");
    expect(miss.matched).toBe(false);
    expect(texts(miss.why!.condition.clauses).sort()).toEqual(
      ['previous.status = "draft": "published" -> false', 'data.status = "published": "published" -> true'].sort(),
    );
    expect(miss.produced).toEqual([]);
  });

  it("says where the chain stops: at the depth limit a trigger does not run", async () => {
    const chain = await createDefinition(stack, { name: "echo", type: "collection.created", collection: "echo" });
    expectStatus(
      await stack.api("POST", `/definitions/${chain.id}/triggers`, {
        action: "create",
        targetCollection: "echo",
        data: { from: "{{event.recordId}}" },
      }),
      201,
    );
    const root = await postEvent(stack, { collection: "echo", recordId: "e-1" });
    await waitForEvent(stack, root);
    const children = await stack.client.events.list({ collection: "echo" });
    const child = children.data.find((e) => e.depth === 1)!;
    await waitForEvent(stack, child.id);
    const explained = await explain(child.id);
    expect(explained.depth).toMatchObject({ triggersStop: true });
    expect(explained.depth.note).toContain("TRIGGER_MAX_DEPTH is 1");
    expect(byName(explained.definitions, "echo")).toMatchObject({
      matched: true,
      produced: [{ kind: "trigger", status: "failed", errorCode: "chain_depth_exceeded" }],
    });
    expect((await explain(root)).depth.triggersStop).toBe(false);
  });

  it("answers 404 for an event that does not exist", async () => {
    expectError(await stack.api("GET", "/events/evt_nothing/explain"), 404, "not_found");
  });
});

describe("dry runs", () => {
  it("change nothing, and show the request the real delivery then sends, byte for byte", async () => {
    const definition = await createDefinition(stack, {
      name: "dry-published",
      type: "collection.updated",
      collection: "articles",
      condition: { "previous.status": "draft", "data.status": "published" },
    });
    await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/articles`,
      headers: { "x-article": "{{event.recordId}}" },
      payload: { title: "{{data.title}}", status: "{{data.status}}", by: "{{data.author}}" },
    });
    expectStatus(
      await stack.api("POST", `/definitions/${definition.id}/triggers`, {
        action: "update",
        targetCollection: "authors",
        filter: { name: "{{data.author}}" },
        data: { lastPublished: "{{event.recordId}}" },
      }),
      201,
    );
    for (const [id, name] of [
      ["au-1", "ada"],
      ["au-2", "ada"],
      ["au-3", "bob"],
    ])
      await stack.client.collection("authors").create({ name }, { id });
    await new Promise((resolve) => setTimeout(resolve, 500)); // the authors' own events settle

    const counts = async () => {
      const { rows } = await stack.deps.pool.query(
        `SELECT (SELECT count(*) FROM event_log) AS events, (SELECT count(*) FROM records) AS records,
          (SELECT count(*) FROM delivery_attempts) AS attempts, (SELECT count(*) FROM event_actions) AS actions,
          (SELECT md5(string_agg(data::text, ',' ORDER BY id)) FROM records) AS data`,
      );
      const keys = await stack.deps.queue.counts();
      return { ...rows[0], keys };
    };
    const before = await counts();
    const hits = receiver.requests.length;
    const change = {
      record: {
        collection: "articles",
        id: "a-1",
        data: { status: "published", title: "Hello", author: "ada" },
        previous: { status: "draft", title: "Hello", author: "ada" },
      },
    };
    const dry = expectStatus(await stack.api("POST", `/definitions/${definition.id}/dry-run`, change), 200);
    const one = dry.definitions[0]!;
    expect(one).toMatchObject({ matched: true, definition: { id: definition.id, saved: true } });
    const request = one.webhooks[0]?.request;
    expect(request).toMatchObject({
      url: `${receiver.url}/articles`,
      method: "POST",
      headers: { "x-article": "a-1", "content-type": "application/json" },
    });
    expect(request!.headers).not.toHaveProperty("webhook-signature");
    expect(one.triggers[0]).toMatchObject({
      action: "update",
      targetCollection: "authors",
      count: 2,
      records: [
        { id: "au-1", data: { name: "ada", lastPublished: "a-1" } },
        { id: "au-2", data: { name: "ada", lastPublished: "a-1" } },
      ],
    });
    expect(await counts()).toEqual(before);
    expect(receiver.requests.length).toBe(hits);

    // The same change for real: the receiver gets the body the dry run showed, byte for byte.
    await stack.client.collection("articles").create(change.record.previous, { id: "a-1" });
    await stack.client.collection("articles").patch("a-1", change.record.data);
    await receiverGets("/articles");
    const [real] = receiver.at("/articles");
    expect(real!.body).toBe(request!.body);
    expect(real!.headers["x-article"]).toBe("a-1");
  });

  it(
    "runs a definition that is being written, unsaved, and a collection's saved ones; refuses what is not " +
      "a change",
    async () => {
      const inlineAnswer = await stack.api("POST", "/dry-run", {
        event: { type: "collection.created", collection: "leads", recordId: "l-1", data: { score: 90 } },
        definition: {
          name: "hot-leads",
          type: "collection.created",
          collection: "leads",
          condition: { "data.score": { $gte: 80 } },
        },
        webhooks: [
          { url: "https://crm.example.com/hot", payload: { lead: "{{event.recordId}}", score: "{{data.score}}" } },
        ],
        triggers: [
          { action: "create", targetCollection: "tasks", data: { id: "call-{{event.recordId}}", kind: "call" } },
        ],
      });
      const inline = expectStatus(inlineAnswer, 200);
      expect(inline.definitions).toHaveLength(1);
      expect(inline.definitions[0]).toMatchObject({
        matched: true,
        definition: { saved: false },
        webhooks: [{ request: { url: "https://crm.example.com/hot", body: '{"lead":"l-1","score":90}' } }],
        // Named as the trigger runner names what it creates: derived from the action.
        triggers: [
          {
            action: "create",
            count: 1,
            records: [{ id: expect.stringMatching(/^rec_/), data: { id: "call-l-1", kind: "call" } }],
          },
        ],
      });
      expect(await stack.deps.db.eventDefinition.count({ where: { name: "hot-leads" } })).toBe(0);

      await createDefinition(stack, {
        name: "cold-leads",
        type: "collection.created",
        collection: "leads",
        condition: { "data.score": { $lt: 20 } },
      });
      const saved = expectStatus(
        await stack.api("POST", "/dry-run", {
          event: { type: "collection.created", collection: "leads", recordId: "l-2", data: { score: 90 } },
        }),
        200,
      );
      expect(saved.definitions.map((d) => [d.definition.name, d.matched])).toEqual([["cold-leads", false]]);

      // More records than TRIGGER_MAX_RECORDS (2 here): the runner would write nothing, and the dry run says so.
      for (const id of ["d-1", "d-2", "d-3"]) await stack.client.collection("drafts").create({ stale: true }, { id });
      const tooMany = expectStatus(
        await stack.api("POST", "/dry-run", {
          record: { collection: "leads", id: "l-9", data: { score: 1 } },
          definition: { name: "purge", type: "collection.created", collection: "leads" },
          triggers: [{ action: "delete", targetCollection: "drafts", filter: { stale: true } }],
        }),
        200,
      );
      expect(tooMany.definitions[0]?.triggers[0]).toMatchObject({
        count: 3,
        records: [],
        error: { code: "too_many_records" },
      });
      // A delete is logged with the data the record had and no previous values; an update that changes nothing
      // is not logged.
      const removal = expectStatus(
        await stack.api("POST", "/dry-run", {
          record: { collection: "leads", id: "l-1", data: null, previous: { score: 90 } },
        }),
        200,
      );
      expect(removal.event).toEqual({
        type: "collection.deleted",
        collection: "leads",
        recordId: "l-1",
        data: { score: 90 },
        previous: null,
        changedFields: [],
      });
      const noChange = expectStatus(
        await stack.api("POST", "/dry-run", {
          record: { collection: "leads", id: "l-1", data: { score: 90 }, previous: { score: 90 } },
        }),
        200,
      );
      expect(noChange).toMatchObject({ definitions: [], note: expect.stringContaining("changes nothing") });

      expectError(await stack.api("POST", "/dry-run", {}), 400, "invalid_request");
      expectError(
        await stack.api("POST", "/definitions/def_nothing/dry-run", {
          event: { type: "collection.created", collection: "leads", recordId: "l-3" },
        }),
        404,
        "not_found",
      );
    },
  );
});

async function receiverGets(path: string) {
  const { waitFor } = await import("./helpers/wait.ts");
  await waitFor(() => receiver.at(path).length > 0, { timeoutMs: 15_000, what: `a delivery to ${path}` });
}
