// tetik's typed client, on ky: `import { createTetikClient } from "tetik/client"`.
//
// Every method names the route it calls (functions/api/contract/routes.ts) and takes its types from that
// route's zod schemas: what a method accepts is the route's request schema, what it returns is the
// route's documented 2xx shape, and a path that is not the route's does not compile. Only types are
// imported from the contract, so at run time the client is ky and this file.
//
//   const tetik = createTetikClient({ baseUrl: "http://127.0.0.1:3000", apiKey: process.env.TETIK_API_KEY });
//   const { id } = await tetik.events.ingest({
//     type: "collection.created",
//     collection: "orders",
//     recordId: "o-1",
//     data: { total: 120 },
//   });
//   for await (const event of tetik.events.iterate({ status: "failed" })) console.log(event.id, event.error);
import ky, { HTTPError, type KyInstance, type Options } from "ky";
import type { z } from "zod";
import type { allRoutes } from "../api/contract/routes.ts";

type Routes = typeof allRoutes;
type RouteName = keyof Routes;
type JsonSchemaOf<T> = T extends { content: { "application/json": { schema: infer S extends z.ZodType } } } ? S : never;
type Request<K extends RouteName> = Routes[K] extends { request: infer Q } ? Q : Record<never, never>;

type Success<K extends RouteName> = {
  [S in keyof Routes[K]["responses"]]: S extends 200 | 201 | 202
    ? z.output<JsonSchemaOf<Routes[K]["responses"][S]>>
    : never;
}[keyof Routes[K]["responses"]];
/** What a route answers on success (its 2xx JSON shape; nothing for a 204). */
export type Answer<K extends RouteName> = [Success<K>] extends [never] ? undefined : Success<K>;
/** What a route takes as its JSON body. */
export type BodyOf<K extends RouteName> = Request<K> extends { body: infer B } ? z.input<JsonSchemaOf<B>> : never;
/** What a route takes as its query. */
export type QueryOf<K extends RouteName> = Request<K> extends { query: infer Q extends z.ZodType } ? z.input<Q> : never;

export type Definition = Answer<"createDefinition">;
export type DefinitionDetail = Answer<"getDefinition">;
export type Trigger = Answer<"getTrigger">;
export type Webhook = Answer<"getWebhook">;
export type WebhookWithSecret = Answer<"createWebhook">;
export type Delivery = Answer<"listDeliveries">["data"][number];
export type LoggedEvent = Answer<"getEvent">;
export type CollectionRecord = Answer<"getRecord">;
export type ApiKey = Answer<"getKey">;
export type AuditEntry = Answer<"listAudit">["data"][number];
export type EventInput = BodyOf<"ingestEvent">;
export type Page<T> = { data: T[]; nextCursor: string | null };

/** A non-2xx answer, in tetik's error shape: `{"error": {"code", "message", "details"?}}`. */
export class TetikError extends Error {
  override readonly name = "TetikError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface TetikClientOptions {
  /** Where tetik answers, e.g. http://127.0.0.1:3000 or the API Gateway URL. */
  baseUrl: string;
  /** The server's API_KEY, sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Tries after the first on 429 and 503 (waiting what Retry-After says, else backing off). Default 3. */
  retries?: number;
  /** Per request, in ms. Default 30,000 (a test send waits on the receiver for up to its timeout). */
  timeoutMs?: number;
  /** ky options of your own (hooks, fetch), merged over the client's. */
  ky?: Options;
}

/** Paths are the routes' own, with `{name}` filled in, escaped. */
type PathOf<K extends RouteName> = Routes[K]["path"];
function fill(path: string, params: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(params[name]!)).replace(/^\//, "");
}

/** Query values as strings, undefined left out. */
function searchParams(query: object | undefined): Record<string, string> | undefined {
  if (!query) return undefined;
  const entries = Object.entries(query).filter(([, v]) => v !== undefined);
  return Object.fromEntries(
    entries.map(([k, v]) => [k, typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v)]),
  );
}

async function toTetikError(error: unknown): Promise<never> {
  if (!(error instanceof HTTPError)) throw error;
  const { status } = error.response;
  const body = (await error.response.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string; details?: unknown } }
    | undefined;
  throw new TetikError(
    status,
    body?.error?.code ?? `http_${status}`,
    body?.error?.message ?? error.message,
    body?.error?.details,
  );
}

export function createTetikClient(options: TetikClientOptions) {
  const retries = options.retries ?? 3;
  const RETRY = {
    limit: retries,
    statusCodes: [429, 503],
    afterStatusCodes: [429, 503],
    maxRetryAfter: 60_000,
    backoffLimit: 10_000,
  };
  const http: KyInstance = ky
    .create({
      prefixUrl: options.baseUrl,
      timeout: options.timeoutMs ?? 30_000,
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      // tetik answers 503 when a dependency is down, having changed nothing; API Gateway answers 429 when
      // throttling. Reads are retried on those and on network errors; writes are not (a DELETE that
      // succeeded before its answer was lost would come back as a 404), unless they carry an
      // Idempotency-Key (ingestion), which makes any number of tries one write. A Retry-After is
      // honoured up to a minute.
      retry: { ...RETRY, methods: ["get", "head"] },
    })
    // Yours over the client's, merged (headers, hooks and retry keep what you do not set).
    .extend(options.ky ?? {});

  async function call<K extends RouteName>(
    _route: K,
    method: Routes[K]["method"],
    path: PathOf<K>,
    {
      params = {},
      query,
      body,
      headers,
      retryWrites = false,
    }: {
      params?: Record<string, string>;
      query?: object;
      body?: unknown;
      headers?: Record<string, string>;
      retryWrites?: boolean;
    } = {},
  ): Promise<Answer<K>> {
    try {
      // Options left out rather than undefined: ky would take an undefined `headers` for "none".
      const response = await http(fill(path, params), {
        method,
        ...(query ? { searchParams: searchParams(query) } : {}),
        ...(body !== undefined ? { json: body } : {}),
        ...(headers ? { headers } : {}),
        ...(retryWrites ? { retry: { ...RETRY, methods: ["post"] } } : {}),
      });
      return (response.status === 204 ? undefined : await response.json()) as Answer<K>;
    } catch (error) {
      return toTetikError(error);
    }
  }

  /** Every item of a list, page after page (each page one request, made when the last is used up). */
  async function* iterate<T>(
    list: (query: { cursor?: string }) => Promise<Page<T>>,
  ): AsyncGenerator<T, void, undefined> {
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await list({ cursor });
      yield* page.data;
      cursor = page.nextCursor ?? undefined;
      // A cursor seen before would loop forever: stop (it cannot happen with tetik's ids, which only grow).
      if (cursor !== undefined && seen.has(cursor)) return;
      if (cursor !== undefined) seen.add(cursor);
    } while (cursor !== undefined);
  }

  const definitions = {
    create: (body: BodyOf<"createDefinition">) => call("createDefinition", "post", "/definitions", { body }),
    list: (query?: QueryOf<"listDefinitions">) => call("listDefinitions", "get", "/definitions", { query }),
    iterate: (query: Omit<QueryOf<"listDefinitions">, "cursor"> = {}) =>
      iterate((page) => definitions.list({ ...query, ...page })),
    get: (id: string) => call("getDefinition", "get", "/definitions/{id}", { params: { id } }),
    update: (id: string, body: BodyOf<"updateDefinition">) =>
      call("updateDefinition", "patch", "/definitions/{id}", { params: { id }, body }),
    delete: (id: string) => call("deleteDefinition", "delete", "/definitions/{id}", { params: { id } }),
    /** What the definition would do with a change: nothing is written, queued or sent. */
    dryRun: (id: string, change: BodyOf<"dryRunDefinition">) =>
      call("dryRunDefinition", "post", "/definitions/{id}/dry-run", { params: { id }, body: change }),
  };

  const triggers = {
    create: (definitionId: string, body: BodyOf<"createTrigger">) =>
      call("createTrigger", "post", "/definitions/{id}/triggers", { params: { id: definitionId }, body }),
    get: (id: string) => call("getTrigger", "get", "/triggers/{id}", { params: { id } }),
    update: (id: string, body: BodyOf<"updateTrigger">) =>
      call("updateTrigger", "patch", "/triggers/{id}", { params: { id }, body }),
    delete: (id: string) => call("deleteTrigger", "delete", "/triggers/{id}", { params: { id } }),
  };

  const webhooks = {
    create: (body: BodyOf<"createWebhook">) => call("createWebhook", "post", "/webhooks", { body }),
    list: (query?: QueryOf<"listWebhooks">) => call("listWebhooks", "get", "/webhooks", { query }),
    iterate: (query: Omit<QueryOf<"listWebhooks">, "cursor"> = {}) =>
      iterate((page) => webhooks.list({ ...query, ...page })),
    get: (id: string) => call("getWebhook", "get", "/webhooks/{id}", { params: { id } }),
    update: (id: string, body: BodyOf<"updateWebhook">) =>
      call("updateWebhook", "patch", "/webhooks/{id}", { params: { id }, body }),
    delete: (id: string) => call("deleteWebhook", "delete", "/webhooks/{id}", { params: { id } }),
    rotateSecret: (id: string) => call("rotateSecret", "post", "/webhooks/{id}/rotate-secret", { params: { id } }),
    /** Sends one signed sample delivery now and answers what the receiver said. */
    test: (id: string, body: BodyOf<"testWebhook"> = {}) =>
      call("testWebhook", "post", "/webhooks/{id}/test", { params: { id }, body }),
    deliveries: (id: string, query?: QueryOf<"listDeliveries">) =>
      call("listDeliveries", "get", "/webhooks/{id}/deliveries", { params: { id }, query }),
    iterateDeliveries: (id: string, query: Omit<QueryOf<"listDeliveries">, "cursor"> = {}) =>
      iterate((page) => webhooks.deliveries(id, { ...query, ...page })),
  };

  const events = {
    /** Reports a change. An Idempotency-Key is made for it unless given, so retries never store it twice. */
    ingest: (
      event: BodyOf<"ingestEvent">,
      { idempotencyKey = crypto.randomUUID() }: { idempotencyKey?: string } = {},
    ) =>
      call("ingestEvent", "post", "/events", {
        body: event,
        headers: { "idempotency-key": idempotencyKey },
        retryWrites: true,
      }),
    /** Up to 1,000 changes, all or nothing; one Idempotency-Key covers the batch. */
    ingestBatch: (
      batch: BodyOf<"ingestBatch">["events"],
      { idempotencyKey = crypto.randomUUID() }: { idempotencyKey?: string } = {},
    ) =>
      call("ingestBatch", "post", "/events/batch", {
        body: { events: batch },
        headers: { "idempotency-key": idempotencyKey },
        retryWrites: true,
      }),
    list: (query?: QueryOf<"listEvents">) => call("listEvents", "get", "/events", { query }),
    iterate: (query: Omit<QueryOf<"listEvents">, "cursor"> = {}) =>
      iterate((page) => events.list({ ...query, ...page })),
    get: (id: string) => call("getEvent", "get", "/events/{id}", { params: { id } }),
    /** Why the event fired each definition of its collection, or didn't, clause by clause. */
    explain: (id: string) => call("explainEvent", "get", "/events/{id}/explain", { params: { id } }),
    /** Runs the event's failed actions again (`all`: every action). */
    replay: (id: string, { all = false }: { all?: boolean } = {}) =>
      call("replayEvent", "post", "/events/{id}/replay", { params: { id }, query: { all: String(all) } }),
    /** Runs the failed actions of every event the filter selects again. */
    replayMany: (filter: BodyOf<"replayEvents"> = {}) =>
      call("replayEvents", "post", "/events/replay", { body: filter }),
  };

  /** The records of one collection. */
  const collection = (name: string) => ({
    create: (data: Record<string, unknown>, { id }: { id?: string } = {}) =>
      call("createRecord", "post", "/collections/{collection}/records", {
        params: { collection: name },
        body: { id, data },
      }),
    /** `filter`: a condition over the records' fields, as an object or its JSON. */
    list: (query?: Omit<QueryOf<"listRecords">, "filter"> & { filter?: object | string }) =>
      call("listRecords", "get", "/collections/{collection}/records", { params: { collection: name }, query }),
    iterate: (query: Omit<QueryOf<"listRecords">, "cursor" | "filter"> & { filter?: object | string } = {}) =>
      iterate((page) => collection(name).list({ ...query, ...page })),
    get: (id: string) =>
      call("getRecord", "get", "/collections/{collection}/records/{id}", { params: { collection: name, id } }),
    patch: (id: string, data: Record<string, unknown>) =>
      call("patchRecord", "patch", "/collections/{collection}/records/{id}", {
        params: { collection: name, id },
        body: { data },
      }),
    delete: (id: string) =>
      call("deleteRecord", "delete", "/collections/{collection}/records/{id}", { params: { collection: name, id } }),
  });

  /** API keys (an admin key's calls). A key's text is in create's answer only. */
  const keys = {
    create: (body: BodyOf<"createKey">) => call("createKey", "post", "/keys", { body }),
    list: (query?: QueryOf<"listKeys">) => call("listKeys", "get", "/keys", { query }),
    iterate: (query: Omit<QueryOf<"listKeys">, "cursor"> = {}) => iterate((page) => keys.list({ ...query, ...page })),
    get: (id: string) => call("getKey", "get", "/keys/{id}", { params: { id } }),
    /** Refused everywhere within 10 seconds. Revoking a revoked key changes nothing. */
    revoke: (id: string) => call("revokeKey", "delete", "/keys/{id}", { params: { id } }),
  };

  /** The audit trail (an admin key's calls): every change of configuration, newest first. */
  const audit = {
    list: (query?: QueryOf<"listAudit">) => call("listAudit", "get", "/audit", { query }),
    iterate: (query: Omit<QueryOf<"listAudit">, "cursor"> = {}) => iterate((page) => audit.list({ ...query, ...page })),
  };

  return {
    definitions,
    triggers,
    webhooks,
    events,
    collection,
    keys,
    audit,
    /** What a collection's definitions (or `definition`, unsaved) would do with a change. */
    dryRun: (change: BodyOf<"dryRunCollection">) => call("dryRunCollection", "post", "/dry-run", { body: change }),
    health: () => call("health", "get", "/health"),
  };
}

export type TetikClient = ReturnType<typeof createTetikClient>;
