// The API describes itself, and the description holds: the OpenAPI document passes a real validator,
// lists exactly the routes the app serves, is served (with the reference page) without the API key, and
// the referee that holds every test's answers to it (helpers/contract.ts) rejects what it should.
import SwaggerParser from "@apidevtools/swagger-parser";
import { SCOPES } from "../functions/domain/keys/scopes.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiApp } from "../functions/server/app.ts";
import { openApiDocument } from "../functions/api/contract/openapi-document.ts";
import { allRoutes } from "../functions/api/contract/routes.ts";
import { checkAgainstDocument } from "./helpers/contract.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

const KEY = "contract-key-0123456789";
let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ worker: false, env: { API_KEY: KEY } });
});
afterAll(() => stack?.stop());

type Operation = {
  security?: Array<{ apiKey?: string[] }>;
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: unknown;
  responses: Record<string, unknown>;
};
const doc = () => openApiDocument() as unknown as { openapi: string; paths: Record<string, Record<string, Operation>> };

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document (checked by swagger-parser, which also resolves every $ref)", async () => {
    const checked = await SwaggerParser.validate(structuredClone(doc()) as never);
    expect((checked as { openapi: string }).openapi).toBe("3.1.0");
    expect(Object.keys(doc().paths)).toHaveLength(new Set(Object.values(allRoutes).map((r) => r.path)).size);
  });

  it("describes every route the app serves, and no other", () => {
    // A route's checks and its handler are two entries of Hono's list: one route.
    const served = [
      ...new Set(
        createApiApp(stack.deps)
          .routes.filter((r) => r.method !== "ALL")
          .map((r) => `${r.method} ${r.path}`),
      ),
    ];
    const documented = Object.entries(doc().paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replaceAll(/\{([^}]+)\}/g, ":$1")}`),
    );
    // The reference page's own files are the page's, not the API's.
    // The dashboard's pages are for people, not part of the API.
    expect(served.filter((r) => r !== "GET /docs/:asset" && !r.includes(" /dashboard")).sort()).toEqual(
      documented.sort(),
    );
  });

  it("says which routes need which scopes, and documents the error answers each can give", () => {
    for (const [path, ops] of Object.entries(doc().paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const name = `${method.toUpperCase()} ${path}`;
        const open = ["/health", "/openapi.json", "/docs"].includes(path);
        if (open) expect(op.security, name).toEqual([]);
        else {
          // Each requirement is an alternative: admin, or one of the route's own scopes.
          expect(op.security?.[0], name).toEqual({ apiKey: ["admin"] });
          for (const requirement of op.security ?? []) expect(SCOPES).toContain(requirement.apiKey?.[0]);
          expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(["401", "403", "500", "503"]));
        }
        if (op.requestBody || op.parameters?.some((p) => p.in === "query"))
          expect(Object.keys(op.responses), name).toContain("400");
        if (op.requestBody) expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(["413", "415"]));
        if (op.parameters?.some((p) => p.in === "path" && p.name === "id"))
          expect(Object.keys(op.responses), name).toContain("404");
      }
    }
    const ingest = doc().paths["/events"]!.post!;
    expect(ingest.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ in: "header", name: "Idempotency-Key" })]),
    );
    expect(Object.keys(ingest.responses)).toContain("422");
  });

  it("is served at /openapi.json and the reference page at /docs without the API key; the rest needs it", async () => {
    const served = await stack.api("GET", "/openapi.json");
    expect(served.status).toBe(200);
    expect(served.body).toEqual(JSON.parse(JSON.stringify(doc())));
    const page = await stack.api("GET", "/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(page.body).toContain('src="docs/swagger-ui-bundle.js"');
    const bundle = await stack.api("GET", "/docs/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toContain("text/javascript");
    expect(String(bundle.body).length).toBeGreaterThan(500_000);
    expect((await stack.api("GET", "/docs/package.json")).status).toBe(404);
    expect((await stack.api("GET", "/definitions")).status).toBe(401);
    expect((await stack.api("GET", "/definitions", undefined, { authorization: `Bearer ${KEY}` })).status).toBe(200);
  });
});

describe("the referee of answers (helpers/contract.ts)", () => {
  it("rejects a status a route does not document, a wrong shape, and a body where none is documented", () => {
    expect(() =>
      checkAgainstDocument("GET", "/events/e1", 409, "application/json", { error: { code: "conflict", message: "x" } }),
    ).toThrow(/status 409 is not documented/);
    expect(() => checkAgainstDocument("POST", "/events", 202, "application/json", { id: "e1" })).toThrow(
      /does not match the documented schema: .*status/,
    );
    expect(() =>
      checkAgainstDocument("POST", "/events", 202, "application/json", { id: "e1", status: "done" }),
    ).toThrow(/does not match/);
    expect(() => checkAgainstDocument("DELETE", "/webhooks/w1", 204, null, { id: "w1" })).toThrow(/without a body/);
    expect(() => checkAgainstDocument("GET", "/events/replay-not-an-id", 200, "text/plain", "x")).toThrow(
      /documented as application\/json/,
    );
    // And takes what is right: /events/replay is its own route, not an event id.
    checkAgainstDocument("POST", "/events/replay", 202, "application/json", { queued: 0, events: 0 });
    checkAgainstDocument("GET", "/health", 503, "application/json", {
      error: { code: "service_unavailable", message: "down", details: {} },
    });
  });
});
