// Event definitions through the HTTP API: CRUD, validation, conflicts, pagination, the error shape.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError as expectErrorCode, expectStatus } from "./helpers/api-types.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(() => stack?.stop());

const valid = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: "collection.created",
  collection: "orders",
  condition: { "data.total": { $gt: 100 } },
  ...extra,
});

/** The error answer `status` with `code`, and a message that says something; answers the error. */
function expectError<A extends { status: unknown; body: unknown }>(answer: A, status: A["status"], code: string) {
  const error = expectErrorCode(answer, status, code);
  expect(typeof error.message).toBe("string");
  expect(error.message).not.toBe("");
  return error;
}

describe("definitions", () => {
  it("creates, reads, updates and deletes a definition", async () => {
    const created = expectStatus(await stack.api("POST", "/definitions", valid("big-orders")), 201);
    expect(created).toMatchObject({
      name: "big-orders",
      description: null,
      type: "collection.created",
      collection: "orders",
      fields: null,
      condition: { "data.total": { $gt: 100 } },
      active: true,
    });
    expect(created.id).toMatch(/^def_/);
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);

    const read = expectStatus(await stack.api("GET", `/definitions/${created.id}`), 200);
    expect(read).toMatchObject({ id: created.id, triggers: [], webhooks: [] });

    const patched = expectStatus(
      await stack.api("PATCH", `/definitions/${created.id}`, { active: false, description: "only big ones" }),
      200,
    );
    expect(patched).toMatchObject({ active: false, description: "only big ones", name: "big-orders" });

    expectStatus(await stack.api("DELETE", `/definitions/${created.id}`), 204);
    expectError(await stack.api("GET", `/definitions/${created.id}`), 404, "not_found");
    expectError(await stack.api("DELETE", `/definitions/${created.id}`), 404, "not_found");
  });

  it("requires fields exactly for field.updated definitions", async () => {
    const missing = expectError(
      await stack.api("POST", "/definitions", valid("f1", { type: "field.updated" })),
      400,
      "invalid_request",
    );
    expect(missing.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "fields" })]));

    const extra = await stack.api("POST", "/definitions", valid("f2", { fields: ["status"] }));
    expectError(extra, 400, "invalid_request");

    const ok = expectStatus(
      await stack.api("POST", "/definitions", valid("f3", { type: "field.updated", fields: ["status"] })),
      201,
    );
    expect(ok.fields).toEqual(["status"]);

    // A patch is checked against the definition it would make.
    expectError(await stack.api("PATCH", `/definitions/${ok.id}`, { fields: [] }), 400, "invalid_request");
    const retyped = expectStatus(
      await stack.api("PATCH", `/definitions/${ok.id}`, { type: "collection.deleted" }),
      200,
    );
    expect(retyped.fields).toBeNull();
  });

  it("answers 409 on a duplicate name, on create and on rename", async () => {
    expectStatus(await stack.api("POST", "/definitions", valid("dup-a")), 201);
    const second = expectStatus(await stack.api("POST", "/definitions", valid("dup-b")), 201);
    expectError(await stack.api("POST", "/definitions", valid("dup-a")), 409, "conflict");
    expectError(await stack.api("PATCH", `/definitions/${second.id}`, { name: "dup-a" }), 409, "conflict");
  });

  it("refuses bad input with 400s that name the path, and changes nothing", async () => {
    const before = await stack.deps.db.eventDefinition.count();
    const cases: Array<[unknown, string]> = [
      [{ ...valid("b1"), type: "record.created" }, "type"],
      [{ ...valid("b2"), collection: "Orders!" }, "collection"],
      [{ ...valid("b3"), condition: { "data.total": { $near: 3 } } }, "condition"],
      [{ ...valid("b4"), condition: { $where: "this.a" } }, "condition"],
      [{ ...valid("b5"), condition: { "data.total": { $in: 5 } } }, "condition"],
      [{ ...valid("b6"), surprise: true }, ""],
      [{ type: "collection.created", collection: "orders" }, "name"],
    ];
    for (const [body, path] of cases) {
      const error = expectError(await stack.api("POST", "/definitions", body), 400, "invalid_request");
      if (path) expect(error.message).toContain(path);
    }
    const unknownOp = await stack.api("POST", "/definitions", {
      ...valid("b7"),
      condition: { "data.total": { $near: 3 } },
    });
    expect(expectError(unknownOp, 400, "invalid_request").message).toContain("unknown operator $near");
    // A field left out is called that, not "Invalid input".
    const missing = expectError(
      await stack.api("POST", "/definitions", { type: "collection.created" }),
      400,
      "invalid_request",
    );
    expect(missing.message).toBe("name: required (expected string) (and 1 more)");
    expect(missing.details).toContainEqual({ path: "collection", message: expect.stringMatching(/^required/) });
    expect(await stack.deps.db.eventDefinition.count()).toBe(before);
  });

  it("answers 415 for a body that is not JSON, 400 for malformed JSON, 413 over 1 MiB", async () => {
    expectError(
      await stack.api("POST", "/definitions", "name=x", { "content-type": "application/x-www-form-urlencoded" }),
      415,
      "unsupported_media_type",
    );
    expectError(
      await stack.api("POST", "/definitions", "{not json", { "content-type": "application/json" }),
      400,
      "invalid_json",
    );
    const big = JSON.stringify(valid("big", { description: "x".repeat(1024 * 1024 + 10) }));
    expectError(
      await stack.api("POST", "/definitions", big, { "content-type": "application/json" }),
      413,
      "payload_too_large",
    );
  });

  it("answers 404 for an unknown id of any form, and for unknown routes", async () => {
    for (const id of ["def_00000000000000000000000000000000", "nope", "1", "%20"]) {
      expectError(await stack.api("GET", `/definitions/${id}`), 404, "not_found");
      expectError(await stack.api("PATCH", `/definitions/${id}`, { active: false }), 404, "not_found");
    }
    expectError(await stack.api("GET", "/nowhere"), 404, "not_found");
    // A path the API has, with a method it does not take: 405, saying which it takes.
    const url = await stack.serve();
    const put = await fetch(`${url}/events`, { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("POST, GET, HEAD");
    expect(await put.json()).toEqual({
      error: { code: "method_not_allowed", message: "/events takes POST, GET, HEAD, not PUT" },
    });
    expect((await fetch(`${url}/definitions/def_x/triggers`, { method: "GET" })).status).toBe(405);
    expect((await fetch(`${url}/nowhere`, { method: "PUT" })).status).toBe(404);
  });

  it("refuses a query parameter a list does not know, and a cursor tetik did not give", async () => {
    const typo = expectError(await stack.api("GET", "/events?stauts=failed"), 400, "invalid_request");
    expect(typo.message).toContain('Unrecognized key: "stauts"');
    const garbage = expectError(await stack.api("GET", "/definitions?cursor=%25%25%25"), 400, "invalid_request");
    expect(garbage.message).toBe("cursor: is not a cursor tetik gave: pass a page's nextCursor as it is");
    expectStatus(await stack.api("GET", "/definitions?limit=2"), 200);
  });

  it("pages through definitions with limit and cursor, newest first", async () => {
    const names = Array.from({ length: 5 }, (_, i) => `page-${i}`);
    for (const name of names)
      expectStatus(await stack.api("POST", "/definitions", valid(name, { collection: "paging" })), 201);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const after: string = cursor ? `&cursor=${cursor}` : "";
      const { data, nextCursor } = expectStatus(await stack.api("GET", `/definitions?limit=2${after}`), 200);
      expect(data.length).toBeLessThanOrEqual(2);
      seen.push(...data.map((d) => d.name));
      cursor = nextCursor;
      if (!cursor) break;
    }
    const paging = seen.filter((n) => n.startsWith("page-"));
    expect(paging).toEqual([...names].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    expectError(await stack.api("GET", "/definitions?limit=0"), 400, "invalid_request");
    expectError(await stack.api("GET", "/definitions?limit=201"), 400, "invalid_request");
  });
});
