// Event definitions through the HTTP API: CRUD, validation, conflicts, pagination, the error shape.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe("string");
}

describe("definitions", () => {
  it("creates, reads, updates and deletes a definition", async () => {
    const created = await stack.api("POST", "/definitions", valid("big-orders"));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "big-orders",
      description: null,
      type: "collection.created",
      collection: "orders",
      fields: null,
      condition: { "data.total": { $gt: 100 } },
      active: true,
    });
    expect(created.body.id).toMatch(/^def_/);
    expect(new Date(created.body.createdAt).toISOString()).toBe(created.body.createdAt);

    const read = await stack.api("GET", `/definitions/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: created.body.id, triggers: [], webhooks: [] });

    const patched = await stack.api("PATCH", `/definitions/${created.body.id}`, {
      active: false,
      description: "only big ones",
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ active: false, description: "only big ones", name: "big-orders" });

    expect((await stack.api("DELETE", `/definitions/${created.body.id}`)).status).toBe(204);
    expectError(await stack.api("GET", `/definitions/${created.body.id}`), 404, "not_found");
    expectError(await stack.api("DELETE", `/definitions/${created.body.id}`), 404, "not_found");
  });

  it("requires fields exactly for field.updated definitions", async () => {
    const missing = await stack.api("POST", "/definitions", valid("f1", { type: "field.updated" }));
    expectError(missing, 400, "invalid_request");
    expect(missing.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "fields" })]));

    const extra = await stack.api("POST", "/definitions", valid("f2", { fields: ["status"] }));
    expectError(extra, 400, "invalid_request");

    const ok = await stack.api("POST", "/definitions", valid("f3", { type: "field.updated", fields: ["status"] }));
    expect(ok.status).toBe(201);
    expect(ok.body.fields).toEqual(["status"]);

    // A patch is checked against the definition it would make.
    expectError(await stack.api("PATCH", `/definitions/${ok.body.id}`, { fields: [] }), 400, "invalid_request");
    const retyped = await stack.api("PATCH", `/definitions/${ok.body.id}`, { type: "collection.deleted" });
    expect(retyped.status).toBe(200);
    expect(retyped.body.fields).toBeNull();
  });

  it("answers 409 on a duplicate name, on create and on rename", async () => {
    const first = await stack.api("POST", "/definitions", valid("dup-a"));
    const second = await stack.api("POST", "/definitions", valid("dup-b"));
    expect(first.status).toBe(201);
    expectError(await stack.api("POST", "/definitions", valid("dup-a")), 409, "conflict");
    expectError(await stack.api("PATCH", `/definitions/${second.body.id}`, { name: "dup-a" }), 409, "conflict");
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
      const res = await stack.api("POST", "/definitions", body);
      expectError(res, 400, "invalid_request");
      if (path) expect(res.body.error.message).toContain(path);
    }
    const unknownOp = await stack.api("POST", "/definitions", {
      ...valid("b7"),
      condition: { "data.total": { $near: 3 } },
    });
    expect(unknownOp.body.error.message).toContain("unknown operator $near");
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
  });

  it("pages through definitions with limit and cursor, newest first", async () => {
    const names = Array.from({ length: 5 }, (_, i) => `page-${i}`);
    for (const name of names)
      expect((await stack.api("POST", "/definitions", valid(name, { collection: "paging" }))).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const res: { status: number; body: any } = await stack.api(
        "GET",
        `/definitions?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((d: any) => d.name));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    const paging = seen.filter((n) => n.startsWith("page-"));
    expect(paging).toEqual([...names].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    expectError(await stack.api("GET", "/definitions?limit=0"), 400, "invalid_request");
    expectError(await stack.api("GET", "/definitions?limit=201"), 400, "invalid_request");
  });
});
