// `npm run bench`: tetik driven through its real HTTP API to a real receiver on 127.0.0.1, measured
// against two reference pipelines run on the same machine in the same run: the naive one (HTTP -> INSERT
// -> queue.add -> worker -> POST -> UPDATE) and raw BullMQ + POST. Progress goes to stderr; stdout gets
// one JSON line, then a markdown table.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { migrate } from "../../functions/ops/migrate.ts";
import { freePort, startOffline, startProcess, type RunningProcess } from "../helpers/processes.ts";
import { clearQueuePrefix, REDIS_URL } from "../helpers/redis.ts";
import { waitFor } from "../helpers/wait.ts";
import { startBenchReceiver, type BenchReceiver } from "./bench-receiver.ts";
import { measureColdStarts } from "./cold-start.ts";
import { measureConditions } from "./conditions.ts";
import { eventBody, isPoisoned, scenarioName, sender, setUp, type Scenario, type Via } from "./scenarios.ts";
import { drive, jsonPoster, recordIdOf, type DriveResult } from "./drive.ts";
import { cpuByProgram, cpuPerEvent, percentile, round, rssMb } from "./stats.ts";

const { values: opts } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    webhooks: { type: "string", default: "1" },
    concurrency: { type: "string", default: "50" },
    rate: { type: "string", default: "0" },
    batch: { type: "string", default: "1" },
    api: { type: "string", default: "node" },
    attach: { type: "string" },
    prefill: { type: "string", default: "0" },
    workers: { type: "string", default: "1" },
    "receiver-delay-ms": { type: "string", default: "0" },
    warmup: { type: "string" },
    "api-key": { type: "string" },
    baseline: { type: "boolean", default: true },
    "no-baseline": { type: "boolean", default: false },
    /** events (POST /events), records (POST /collections/orders/records), patches (PATCH of existing records). */
    via: { type: "string", default: "events" },
    /** Trigger hops from a created record to the webhook (implies records). */
    chain: { type: "string", default: "0" },
    /** Skip the tetik reference run (events for records and patches, records for chains). */
    "no-reference": { type: "boolean", default: false },
    /** Every so many records, one the database refuses (records and chains): it should cost only itself. */
    "poison-every": { type: "string", default: "0" },
    /** Measure each Lambda function's cold start instead of the pipelines (see cold-start.ts). */
    /** The webhook's flow control, beside the same scenario without it in the same run. */
    ordering: { type: "string", default: "none" },
    /** With --ordering record: the records the events are about (each gets events / records of them). */
    records: { type: "string", default: "1000" },
    "max-per-second": { type: "string", default: "0" },
    /** Where the queue lives (QUEUE_BACKEND): postgres runs beside the same scenario on Redis. */
    queue: { type: "string", default: "redis" },
    /** The key the items are sent with: ingest (a key made with POST /keys) runs beside API_KEY. */
    key: { type: "string", default: "api_key" },
    "cold-start": { type: "boolean", default: false },
    "cold-start-from": { type: "string" },
  },
});
const N = Number(opts.events);
const K = Number(opts.webhooks);
const C = Number(opts.concurrency);
const RATE = Number(opts.rate);
const BATCH = Math.max(1, Number(opts.batch));
const API = opts.attach ? "attached" : opts.api === "offline" ? "offline" : "node";
const withBaseline = opts.baseline && !opts["no-baseline"];
const CHAIN = Math.max(0, Number(opts.chain));
const VIA: Via = CHAIN > 0 ? "records" : (opts.via as Via);
if (!["events", "records", "patches"].includes(VIA))
  throw new Error(`--via takes events, records or patches, not ${opts.via}`);
const POISON_EVERY = VIA === "records" ? Math.max(0, Number(opts["poison-every"])) : 0;
const SCENARIO: Scenario = {
  via: VIA,
  chain: CHAIN,
  batch: VIA === "events" ? BATCH : 1,
  webhooks: K,
  poisonEvery: POISON_EVERY,
  ordering: opts.ordering === "record" ? "record" : "none",
  records: Math.max(1, Number(opts.records)),
  maxPerSecond: Math.max(0, Number(opts["max-per-second"])),
  queue: opts.queue === "postgres" ? "postgres" : "redis",
  key: opts.key === "ingest" ? "ingest" : "api_key",
};
const FLOW = SCENARIO.ordering === "record" || SCENARIO.maxPerSecond > 0;
if (FLOW && VIA !== "events") throw new Error("--ordering and --max-per-second take events (--via events)");
/** What the scenario is held against in the same run: chains against records, records and patches against events. */
const REFERENCE: Scenario | undefined = opts["no-reference"]
  ? undefined
  : SCENARIO.key === "ingest"
    ? { ...SCENARIO, key: "api_key" }
    : SCENARIO.queue === "postgres"
      ? { ...SCENARIO, queue: "redis" }
      : FLOW
        ? { ...SCENARIO, ordering: "none", maxPerSecond: 0 }
        : CHAIN > 0 || POISON_EVERY > 0
          ? { ...SCENARIO, chain: 0, poisonEvery: 0 }
          : VIA !== "events"
            ? { ...SCENARIO, via: "events", batch: 1 }
            : undefined;
/** Completed events written into the log before the run, to see throughput with a large log. */
const PREFILL = Number(opts.prefill);
/**
 * Events sent (same route, concurrency and pace) and delivered before each pipeline is measured, and not
 * counted: the first second of a cold process runs at a fraction of its speed (JIT, new connections),
 * which would make a 10-second run's p99 mostly a measure of start-up. Every pipeline gets the same.
 */
const WARMUP = opts.warmup !== undefined ? Number(opts.warmup) : Math.min(5000, Math.max(50, Math.floor(N / 4)));
/** Worker processes on the one queue (scale-out). */
const WORKERS = Math.max(1, Number(opts.workers));

const SERVER = process.env.BENCH_DATABASE_SERVER ?? "postgresql://postgres@127.0.0.1:5432";
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
/** Runs a TypeScript file in one Node process (so its pid is the process measured). */
/** BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") go to every process started, to profile them. */
/**
 * The API key the driver sends: --api-key, or API_KEY from the environment the bench runs in; with
 * --key ingest the stacks need one to make the ingest key with, so one is made up.
 */
const API_KEY =
  opts["api-key"] ??
  process.env.API_KEY ??
  (opts.key === "ingest" ? `bench-${randomBytes(16).toString("hex")}` : undefined);
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
const node = (file: string): [string, string[]] => [process.execPath, [...nodeArgs, "--import", "tsx", file]];

interface Measured {
  ingestPerSec: number;
  deliveredPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  lost: number;
  duplicates: number;
  workerRssMb?: Record<string, number | undefined>;
  /** Events whose log entry reached completed, and delivery attempts beyond the first (tetik only). */
  logged?: number;
  retriedAttempts?: number;
  /** Percentiles of the log's own stage timings (see stages()). */
  stagesMs?: Record<string, number | null>;
  /** Items the database refused on purpose (--poison-every), and the errors the driver saw. */
  refused?: number;
  errors?: number;
  /** CPU milliseconds per event, by program (postgres counts every backend on the machine). */
  cpuMsPerEvent?: Record<string, number>;
}

async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  const url = `${SERVER}/${name}`;
  await migrate(url, { quiet: true });
  return url;
}

async function dropDatabase(name: string) {
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

/** Waits until `expected` deliveries arrived, or nothing new arrived for 30 s; answers when the last came. */
async function awaitDeliveries(receiver: BenchReceiver, expected: number): Promise<void> {
  let last = receiver.deliveries();
  let lastChange = Date.now();
  for (;;) {
    const now = receiver.deliveries();
    if (now >= expected) return;
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > 30_000) {
      log(`no progress for 30 s at ${now}/${expected} deliveries: counting the rest as lost`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function measure(driven: DriveResult, receiver: BenchReceiver, perEvent: number): Measured {
  const latencies: number[] = [];
  let lost = 0;
  let duplicates = 0;
  let lastArrival = 0;
  let firstSent = Infinity;
  for (const [recordId, sentAt] of driven.sentAt) {
    firstSent = Math.min(firstSent, sentAt);
    const arrivals = receiver.arrivals.get(recordId) ?? [];
    if (arrivals.length === 0) lost++;
    duplicates += Math.max(0, arrivals.length - perEvent);
    for (const at of arrivals) {
      latencies.push(at - sentAt);
      lastArrival = Math.max(lastArrival, at);
    }
  }
  const deliveredSeconds = (lastArrival - firstSent) / 1000;
  return {
    ingestPerSec: round(driven.sentAt.size / driven.seconds, 0),
    deliveredPerSec: round((driven.sentAt.size - lost) / Math.max(deliveredSeconds, 0.001), 0),
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    lost,
    duplicates,
  };
}

/** Drives the warm-up (record ids "w…"), waits for its deliveries, and forgets them. */
async function warmUp(
  name: string,
  receiver: BenchReceiver,
  perEvent: number,
  requests: number,
  rate: number,
  send: (index: number, recordId: string) => Promise<void>,
) {
  receiver.reset();
  if (WARMUP > 0) {
    log(`${name}: warming up with ${WARMUP} events`);
    await drive({ events: requests, concurrency: C, rate, idPrefix: "w", send });
    await awaitDeliveries(receiver, WARMUP * perEvent);
  }
  receiver.reset();
}

/** Writes `count` completed events (with their actions) straight into the log, in chunks. */
async function prefill(url: string, count: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let done = 0; done < count; done += 100_000) {
      const n = Math.min(100_000, count - done);
      await client.query(
        `WITH e AS (
           INSERT INTO event_log (id, type, collection, "recordId", data, "changedFields", status, attempts,
             "occurredAt", "receivedAt", "matchedAt", "completedAt", "durationMs")
           SELECT 'evt_0000prefill' || lpad((g + $1)::text, 12, '0'), 'collection.created', 'orders', 'p' || g,
             jsonb_build_object('total', 150), '{}', 'completed', 1, now(), now(), now(), now(), 5
           FROM generate_series(1, $2) g RETURNING id)
         INSERT INTO event_actions (id, "eventId", kind, "targetId", "definitionId", status, attempts, "updatedAt",
           "completedAt")
         SELECT 'act_' || substr(id, 5), id, 'webhook', 'whk_prefill', 'def_prefill', 'completed', 1, now(), now()
         FROM e`,
        [done, n],
      );
      log(`prefilled ${done + n} events`);
    }
    // A log this old would have been vacuumed and checkpointed long ago: so it is before the run, rather
    // than Postgres doing that work for two million new rows while the run is measured.
    await client.query("VACUUM (ANALYZE) event_log, event_actions");
    await client.query("CHECKPOINT");
  } finally {
    await client.end();
  }
}

/**
 * The measured events (of the event_log alias `table`): not prefilled ("p…"), not warm-up ("w…"), and of
 * a chain only the first level (the records triggers write have derived ids, "rec_…").
 */
const measured = (table = "event_log") => `${table}."recordId" LIKE 'r%' AND ${table}."recordId" NOT LIKE 'rec\\_%'`;

/**
 * Where an event's time went, from the log's own timestamps (one clock, millisecond precision): accepted
 * to claimed by a worker (commit, enqueue, queue wait), claimed to its first request, and accepted to done.
 */
async function stages(client: pg.Client) {
  const { rows } = await client.query(`
    SELECT
      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM e."startedAt" - e."receivedAt") * 1000)
        AS "queuedP50",
      percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM e."startedAt" - e."receivedAt") * 1000)
        AS "queuedP99",
      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a."requestedAt" - e."startedAt") * 1000)
        AS "claimToSendP50",
      percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM a."requestedAt" - e."startedAt") * 1000)
        AS "claimToSendP99",
      percentile_cont(0.5) WITHIN GROUP (ORDER BY e."durationMs") AS "doneP50",
      percentile_cont(0.99) WITHIN GROUP (ORDER BY e."durationMs") AS "doneP99"
    FROM event_log e JOIN delivery_attempts a ON a."eventId" = e.id AND a.attempt = 1
    WHERE ${measured("e")}`);
  return Object.fromEntries(Object.entries(rows[0] ?? {}).map(([k, v]) => [k, v === null ? null : round(Number(v))]));
}

/** Waits (bounded) until the log shows every event completed; answers what it shows. */
async function loggedCompleted(dbName: string, expected: number) {
  const client = new pg.Client({ connectionString: `${SERVER}/${dbName}` });
  await client.connect();
  try {
    const count = async () =>
      Number(
        (await client.query(`SELECT count(*) FROM event_log WHERE status = 'completed' AND ${measured()}`)).rows[0]
          .count,
      );
    await waitFor(async () => (await count()) >= expected, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: "the log to show every event completed",
    }).catch(() => undefined);
    const retried = Number(
      (
        await client.query(
          `SELECT count(*) FROM delivery_attempts a JOIN event_log e ON e.id = a."eventId"
           WHERE a.attempt > 1 AND ${measured("e")}`,
        )
      ).rows[0].count,
    );
    return { logged: await count(), retriedAttempts: retried, stagesMs: await stages(client) };
  } finally {
    await client.end();
  }
}

/** Events after which the worker's memory is compared with its peak over the whole run. */
const MEMORY_MARK = 20_000;

/**
 * Samples a process's memory every second while `work` runs: at the start, its peak until MEMORY_MARK
 * events were delivered (when the run is longer), its peak over the run, and at the end. Flat memory
 * means the peak over a long run is no higher than the peak over its first 20,000 events.
 */
async function withMemory<T>(
  pid: number | undefined,
  delivered: () => number,
  work: () => Promise<T>,
): Promise<{ result: T; rss: Measured["workerRssMb"] }> {
  const start = await rssMb(pid);
  let peak = start ?? 0;
  let peakAtMark: number | undefined;
  const timer = setInterval(async () => {
    const now = await rssMb(pid);
    if (now && now > peak) peak = now;
    if (peakAtMark === undefined && delivered() >= MEMORY_MARK * K) peakAtMark = peak;
  }, 1000);
  try {
    const result = await work();
    const atMark =
      N > MEMORY_MARK && peakAtMark !== undefined ? { [`peakFirst${MEMORY_MARK / 1000}k`]: peakAtMark } : {};
    return { result, rss: { start, ...atMark, peak, end: await rssMb(pid) } };
  } finally {
    clearInterval(timer);
  }
}

async function runTetik(receiver: BenchReceiver, scenario: Scenario): Promise<Measured> {
  const batch = scenario.batch;
  const what = `tetik (${scenarioName(scenario)})`;
  const processes: RunningProcess[] = [];
  const dbName = `tetik_bench_${randomBytes(3).toString("hex")}`;
  const prefix = `bench-${randomBytes(3).toString("hex")}`;
  let origin = opts.attach ?? "";
  try {
    let workerPid: number | undefined;
    const workerPids: Array<number | undefined> = [];
    let apiPid: number | undefined;
    if (!opts.attach) {
      const databaseUrl = await freshDatabase(dbName);
      if (PREFILL > 0) await prefill(databaseUrl, PREFILL);
      const env = {
        DATABASE_URL: databaseUrl,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        QUEUE_BACKEND: scenario.queue,
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
        LOG_LEVEL: "warn",
        // The stack the bench starts takes the key the bench sends (empty: no key).
        API_KEY: API_KEY ?? "",
      };
      for (let i = 0; i < WORKERS; i++) {
        const worker = startProcess(...node("functions/worker/main.ts"), env);
        processes.push(worker);
        workerPids.push(worker.pid);
      }
      workerPid = workerPids[0];
      if (API === "offline") {
        const offline = await startOffline(env);
        processes.push(offline);
        apiPid = offline.pid;
        origin = offline.url;
      } else {
        const port = await freePort();
        const api = startProcess(...node("functions/server/main.ts"), { ...env, PORT: String(port) });
        processes.push(api);
        apiPid = api.pid;
        origin = `http://127.0.0.1:${port}`;
        await waitFor(async () => (await fetch(`${origin}/health`)).ok, {
          timeoutMs: 60_000,
          intervalMs: 200,
          what: "the API",
        });
      }
      log(`tetik up (${API} API, database ${dbName}, queue ${prefix})`);
    }
    const admin = jsonPoster(origin, API_KEY ? { authorization: `Bearer ${API_KEY}` } : {});
    await setUp(scenario, admin, receiver.url, opts.attach ? undefined : `${SERVER}/${dbName}`, { w: WARMUP, r: N });
    let client = admin;
    if (scenario.key === "ingest") {
      const made = (await admin.post("/keys", { name: "bench", scopes: ["ingest"] })) as unknown as { key: string };
      client = jsonPoster(origin, { authorization: `Bearer ${made.key}` });
      await admin.close();
    }

    const paced = RATE ? `, paced at ${RATE}/s` : "";
    log(`${what}: ${WORKERS} worker(s), ${N} items, ${K} webhook(s) each, concurrency ${C}${paced}`);
    await warmUp(what, receiver, K, Math.ceil(WARMUP / batch), RATE / batch, sender(scenario, client, "w", WARMUP));
    const pids = () => ({
      api: apiPid,
      ...Object.fromEntries(workerPids.map((pid, i) => [`worker${WORKERS > 1 ? i + 1 : ""}`, pid])),
    });
    const cpuBefore = await cpuByProgram(pids());
    const { result, rss } = await withMemory(
      workerPid,
      () => receiver.deliveries(),
      async () => {
        const driven = await drive({
          events: Math.ceil(N / batch),
          concurrency: C,
          rate: RATE / batch,
          onProgress: (i) => log(`${what}: sent ${i * batch}`),
          send: sender(scenario, client, "r", N),
        });
        // With batches the driver timed whole batches: every event of a batch was sent when its batch was.
        if (batch > 1) {
          const batchSent = new Map(driven.sentAt);
          driven.sentAt.clear();
          for (let j = 0; j < N; j++)
            driven.sentAt.set(recordIdOf(j), batchSent.get(recordIdOf(Math.floor(j / batch)))!);
        }
        log(`${what}: sent ${N} in ${round(driven.seconds)} s (${driven.errors} errors); waiting for deliveries`);
        // The records the database refused were answered with an error and must cost only themselves.
        for (let i = 0; i < N; i++) if (isPoisoned(scenario, i)) driven.sentAt.delete(recordIdOf(i));
        await awaitDeliveries(receiver, driven.sentAt.size * K);
        return driven;
      },
    );
    const cpuMsPerEvent = cpuPerEvent(cpuBefore, await cpuByProgram(pids()), N);
    await client.close();
    const logged = opts.attach ? undefined : await loggedCompleted(dbName, result.sentAt.size);
    const refused = N - result.sentAt.size;
    return {
      ...measure(result, receiver, K),
      ...(refused ? { refused, errors: result.errors } : {}),
      workerRssMb: rss,
      ...logged,
      cpuMsPerEvent,
    };
  } finally {
    // BENCH_SHOW_OUTPUT=1 prints what tetik's processes logged (warnings and errors), for diagnosis.
    if (process.env.BENCH_SHOW_OUTPUT)
      for (const p of processes) log(`--- process ${p.pid} ---\n${p.output().slice(-6000)}`);
    await Promise.all(processes.map((p) => p.stop()));
    if (!opts.attach) {
      await clearQueuePrefix(prefix);
      await dropDatabase(dbName);
    }
  }
}

async function runRaw(receiver: BenchReceiver): Promise<Measured> {
  const prefix = `bench-raw-${randomBytes(3).toString("hex")}`;
  const worker = startProcess(...node("test/bench/reference/raw-worker.ts"), {
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    RECEIVER_URL: receiver.url,
    CONCURRENCY: String(C),
  });
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue("raw", { connection, prefix });
  try {
    await waitFor(() => worker.output().includes("ready"), { timeoutMs: 30_000, what: "the raw worker" });
    const send = async (index: number, recordId: string) =>
      void (await queue.add("e", eventBody(recordId, index), { removeOnComplete: true, removeOnFail: true }));
    await warmUp("raw", receiver, 1, WARMUP, RATE, send);
    log(`raw BullMQ + POST: ${N} jobs`);
    const driven = await drive({ events: N, concurrency: C, rate: RATE, send });
    await awaitDeliveries(receiver, N);
    return measure(driven, receiver, 1);
  } finally {
    await worker.stop();
    await queue.close();
    connection.disconnect();
    await clearQueuePrefix(prefix);
  }
}

async function runNaive(receiver: BenchReceiver): Promise<Measured> {
  const dbName = `tetik_bench_naive_${randomBytes(3).toString("hex")}`;
  const prefix = `bench-naive-${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const port = await freePort();
  // For records, patches and chains the naive pipeline writes a record too: the same work, done naively.
  const writes = VIA === "events" ? "events" : "records";
  const env = {
    DATABASE_URL: `${SERVER}/${dbName}`,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    RECEIVER_URL: receiver.url,
    CONCURRENCY: String(C),
    PORT: String(port),
    NAIVE_WRITES: writes,
  };
  const api = startProcess(...node("test/bench/reference/naive-api.ts"), env);
  const worker = startProcess(...node("test/bench/reference/naive-worker.ts"), env);
  try {
    await waitFor(() => api.output().includes("ready") && worker.output().includes("ready"), {
      timeoutMs: 30_000,
      what: "the naive pipeline",
    });
    const client = jsonPoster(`http://127.0.0.1:${port}`);
    const send = async (index: number, recordId: string) => void (await client.post("/", eventBody(recordId, index)));
    await warmUp("naive", receiver, 1, WARMUP, RATE, send);
    log(`naive pipeline (${writes}): ${N} events`);
    const driven = await drive({ events: N, concurrency: C, rate: RATE, send });
    await awaitDeliveries(receiver, N);
    await client.close();
    return measure(driven, receiver, 1);
  } finally {
    await Promise.all([api.stop(), worker.stop()]);
    await clearQueuePrefix(prefix);
    await dropDatabase(dbName);
  }
}

if (opts["cold-start"]) {
  const dbName = `tetik_bench_cold_${randomBytes(3).toString("hex")}`;
  const prefix = `bench-cold-${randomBytes(3).toString("hex")}`;
  try {
    const env = {
      DATABASE_URL: await freshDatabase(dbName),
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: "warn",
      API_KEY: "",
    };
    const root = opts["cold-start-from"] ?? process.cwd();
    const functions = await measureColdStarts(root, env, log);
    process.stdout.write(`${JSON.stringify({ coldStart: functions, from: root })}\n`);
    const rows = Object.entries(functions).map(
      ([name, f]) => `| ${name} | ${f.zipKiB} | ${f.initMs} | ${f.firstAnswerMs} | ${f.status} |`,
    );
    const table = [
      "",
      "| function | zip KiB | init ms | process start to first answer, ms | status |",
      "|---|---|---|---|---|",
    ];
    process.stdout.write(`${[...table, ...rows].join("\n")}\n`);
  } finally {
    await clearQueuePrefix(prefix);
    await dropDatabase(dbName);
  }
  process.exit(0);
}

const receiver = await startBenchReceiver(Number(opts["receiver-delay-ms"]));
try {
  const tetik = await runTetik(receiver, SCENARIO);
  log(`tetik: ${JSON.stringify(tetik)}`);
  const reference = REFERENCE && (await runTetik(receiver, REFERENCE));
  if (reference) log(`reference (${scenarioName(REFERENCE!)}): ${JSON.stringify(reference)}`);
  const baseline: Record<string, Measured> = {};
  if (withBaseline) {
    baseline.rawBullmq = await runRaw(receiver);
    log(`raw: ${JSON.stringify(baseline.rawBullmq)}`);
    baseline.naive = await runNaive(receiver);
    log(`naive: ${JSON.stringify(baseline.naive)}`);
  }
  const ratio = (b?: Measured) => (b ? round(tetik.deliveredPerSec / b.deliveredPerSec, 2) : null);
  // In this process, after the pipelines: the worst conditions against the largest events.
  const conditions = measureConditions();
  log(`conditions: ${JSON.stringify(conditions)}`);
  const line = {
    via: VIA,
    chain: CHAIN,
    events: N,
    warmup: WARMUP,
    webhooksPerEvent: K,
    api: API,
    workers: WORKERS,
    concurrency: C,
    rate: RATE || null,
    batch: BATCH,
    ...tetik,
    ...(reference ? { reference: { via: REFERENCE!.via, chain: REFERENCE!.chain, ...reference } } : {}),
    baseline,
    ratio: {
      vsNaive: ratio(baseline.naive),
      vsRawBullmq: ratio(baseline.rawBullmq),
      ...(reference ? { vsReference: ratio(reference) } : {}),
    },
    conditions,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  const row = (name: string, m?: Measured) =>
    m
      ? `| ${name} | ${m.ingestPerSec} | ${m.deliveredPerSec} | ${m.p50Ms} | ${m.p95Ms} | ${m.p99Ms} | ` +
        `${m.lost} | ${m.duplicates} |`
      : "";
  const versusReference = reference
    ? `, ${scenarioName(SCENARIO)} / ${scenarioName(REFERENCE!)}: ${line.ratio.vsReference}x`
    : "";
  const table = [
    "",
    `| pipeline | ingest/s | delivered events/s | p50 ms | p95 ms | p99 ms | lost | duplicates |`,
    `|---|---|---|---|---|---|---|---|`,
    row(`tetik, ${scenarioName(SCENARIO)} (${API} API)`, tetik),
    row(`tetik, ${REFERENCE ? scenarioName(REFERENCE) : ""} (reference)`, reference),
    row(`naive reference${VIA === "events" ? "" : " (writes the record too)"}`, baseline.naive),
    row("raw BullMQ + POST", baseline.rawBullmq),
    "",
    `tetik / naive: ${line.ratio.vsNaive ?? "-"}x, tetik / raw BullMQ: ${line.ratio.vsRawBullmq ?? "-"}x` +
      `${versusReference}; worker RSS MiB ${JSON.stringify(tetik.workerRssMb ?? {})}`,
    "",
    `| worst condition against the largest event (budget ${conditions.budgetSteps} steps) | ms | outcome |`,
    "|---|---|---|",
    ...Object.entries(conditions.cases).map(([name, c]) => `| ${name} | ${c.ms} | ${c.outcome} |`),
  ].filter((l) => l !== "");
  process.stdout.write(`${table.join("\n")}\n`);
} finally {
  await receiver.close();
}
process.exit(0);
