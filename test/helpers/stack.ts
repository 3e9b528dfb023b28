// tetik in this process, for API and delivery tests: the real Hono app, a real worker, a database and a
// queue prefix of this test file's own. End-to-end tests through serverless offline use processes.ts.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, inject } from "vitest";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApiApp } from "../../functions/server/app.ts";
import { serveApi } from "../../functions/server/main.ts";
import { loadConfig, type Config } from "../../functions/platform/config.ts";
import { closeDeps, createDeps, type Deps } from "../../functions/platform/deps.ts";
import { createPool, type Pool } from "../../functions/platform/pool.ts";
import { withTimeout } from "../../functions/platform/timeout.ts";
import type { DeliveryRuntime } from "../../functions/domain/delivery/kinds/runtime.ts";
import type { Consumer } from "../../functions/worker/consumer.ts";
import { startWorker } from "../../functions/worker/main.ts";
import { createDeliveryRuntime } from "../../functions/worker/delivery-runtime.ts";
import type { ApiAnswer } from "./api-types.ts";
import { checkAgainstDocument, refereedKy } from "./contract.ts";
import { createTetikClient, type TetikClient } from "../../functions/client/index.ts";
import { createTestDatabase } from "./database.ts";
import { startReceiver, type Receiver } from "./receiver.ts";
import { QUEUE_BACKEND } from "./queue-backend.ts";
import { clearQueuePrefix, REDIS_URL } from "./redis.ts";

export { REDIS_URL, clearQueuePrefix };

export type { ApiAnswer };

export interface TestStack {
  /** What tetik runs with; its pool connects as `tetik_app`, which may change rows and nothing else. */
  deps: Deps;
  /**
   * The tables' owner on the stack's database, for a test that changes the schema to make the database
   * refuse something (a constraint), which tetik's own role may not.
   */
  owner: Pool;
  /** The environment the stack runs with: hand it to worker processes so they share database and queue. */
  env: Record<string, string>;
  config: Config;
  worker?: Consumer;
  /** The running worker's delivery runtime (its action log, config cache and writers): what the worker sees. */
  runtime?: DeliveryRuntime;
  /**
   * tetik's typed client (functions/client), answered by this stack's app in process: for tests about what
   * happens, not about HTTP. Answers are typed by the contract and refereed like `api`'s.
   */
  client: TetikClient;
  /** One request to the app, answered as its route documents it (see api-types.ts). */
  api<const M extends string, const P extends string>(
    method: M,
    path: P,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiAnswer<M, P>>;
  /**
   * Serves the app over HTTP on 127.0.0.1 (as `npm run serve` does), for browsers and clients; answers its
   * URL. Closed by stop().
   */
  serve(): Promise<string>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Run a worker in this process (default); without one, jobs stay queued where a test can count them. */
  worker?: boolean;
  /** Settings over the test defaults (its own database and queue prefix, private networks allowed, ...). */
  env?: Record<string, string>;
  redisUrl?: string;
}

export async function startStack({
  worker = true,
  env = {},
  redisUrl = REDIS_URL,
}: StackOptions = {}): Promise<TestStack> {
  const database = await createTestDatabase(inject("templateDatabase"));
  const prefix = `tetik-test-${randomBytes(4).toString("hex")}`;
  const stackEnv: Record<string, string> = {
    DATABASE_URL: database.appUrl,
    REDIS_URL: redisUrl,
    QUEUE_BACKEND,
    QUEUE_PREFIX: prefix,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    WORKER_CONCURRENCY: "10",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "error",
    ...env,
  };
  const config = loadConfig(stackEnv);
  const deps = createDeps(config, "test", 8);
  const owner = createPool({ url: database.url, poolSize: 2 });
  const app = createApiApp(deps);
  const runtime = worker ? createDeliveryRuntime(deps) : undefined;
  const running = runtime ? startWorker(deps, runtime) : undefined;
  const servers: Server[] = [];
  if (running) await running.waitUntilReady();

  return {
    deps,
    owner,
    env: stackEnv,
    config,
    worker: running,
    runtime,
    client: createTetikClient({
      baseUrl: "http://tetik.test",
      apiKey: stackEnv.API_KEY,
      ky: { ...refereedKy, fetch: (input, init) => Promise.resolve(app.request(input as Request, init)) },
    }),
    async api(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === "string" ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] ??= "application/json";
      }
      const res = await app.request(path, init);
      const text = await res.text();
      const json = res.headers.get("content-type")?.startsWith("application/json");
      const answer = { status: res.status, headers: res.headers, body: text ? (json ? JSON.parse(text) : text) : null };
      // Every answer a test receives is held to the OpenAPI document (test/helpers/contract.ts).
      checkAgainstDocument(method, path, answer.status, res.headers.get("content-type"), answer.body);
      // The referee just held the body to the document's shape for its status: the type says the same.
      return answer as never;
    },
    async serve() {
      const server = await new Promise<Server>((resolve) => {
        const s = serveApi(deps, { port: 0, hostname: "127.0.0.1" }, () => resolve(s));
      });
      servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async stop() {
      // Each step bounded: a hung step is named in the output instead of timing the whole hook out.
      const step = (what: string, work: () => Promise<unknown>) =>
        withTimeout(work(), 20_000, what).catch((error: Error) => console.error(`test stack stop: ${error.message}`));
      await step("closing the HTTP servers", () =>
        Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))),
      );
      await step("closing the worker", async () => running?.close(true));
      await step("closing connections", () => Promise.all([closeDeps(deps), owner.end()]));
      // A queue in Postgres goes with the database.
      if (config.QUEUE_BACKEND === "redis")
        await step("clearing the queue", () => clearQueuePrefix(config.QUEUE_PREFIX, config.REDIS_URL));
      await step("dropping the database", () => database.drop());
    },
  };
}

/**
 * The setup most test files share: a stack and a receiver on 127.0.0.1, started before the file's tests
 * (handed to `use`) and stopped after them, also when only one of the two started.
 */
export function withStackAndReceiver(
  use: (started: { stack: TestStack; receiver: Receiver }) => unknown,
  options: StackOptions = {},
): void {
  let stack: Promise<TestStack> | undefined;
  let receiver: Promise<Receiver> | undefined;
  beforeAll(async () => {
    stack = startStack(options);
    receiver = startReceiver();
    const [started, listening] = await Promise.all([stack, receiver]);
    await use({ stack: started, receiver: listening });
  });
  afterAll(async () => {
    await Promise.allSettled([stack?.then((s) => s.stop()), receiver?.then((r) => r.close())]);
  });
}
