// `npm start`: tetik on this machine - the API (serverless offline), the worker and the sweep, once the
// database is migrated. Postgres and Redis are used where DATABASE_URL/REDIS_URL name them or where Postgres
// answers at its default address; where nothing does, an embedded Postgres is started with its data in
// .tetik/ and the queue in it, so a machine with only Node runs tetik (SPEC "Running with Node alone").
// Ctrl-C stops everything this started: the three processes first (they finish their jobs), Postgres last.
import { config, DEFAULT_DATABASE_URL, embeddedQueueBackend, servicesNamed } from "../platform/config.ts";
import { answersAt, terminal as say } from "../platform/wait-for-services.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.ts";
import { migrate } from "./migrate.ts";
import { preflight } from "./preflight.ts";
import { type NamedProcess, runProcesses } from "./run-processes.ts";

/** In the project's root, where npm runs its scripts. */
const EMBEDDED_DIR = ".tetik";
/** The worker finishes its jobs within 25 s of a signal; past this, what is left is killed. */
const STOP_WAIT_MS = 40_000;

const PROCESSES: NamedProcess[] = [
  { name: "api", color: "blue", command: "npm run -s api" },
  { name: "worker", color: "magenta", command: "npm run -s worker" },
  { name: "sweep", color: "gray", command: "npm run -s sweep" },
];

/** A signal before the processes run (Postgres starting, migrations) stops the launch; after, it stops them. */
let onSignal = (signal: NodeJS.Signals) => {
  stoppedBy ??= signal;
};
let stoppedBy: NodeJS.Signals | undefined;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => onSignal(signal));

async function main(): Promise<number> {
  const postgres = await embeddedPostgresIfNeeded();
  return postgres ? runThenStop(postgres, migrateThenRun) : migrateThenRun();
}

/** The embedded Postgres, started and named in the first lines, when nothing else is there to use. */
async function embeddedPostgresIfNeeded(): Promise<EmbeddedPostgres | undefined> {
  const { hostname, port } = new URL(DEFAULT_DATABASE_URL);
  if (servicesNamed() || (await answersAt(hostname, Number(port)))) return undefined;
  const queue = embeddedQueueBackend();
  const where = queue === "postgres" ? "it, no Redis" : "Redis";
  say.info(
    `no Postgres at ${hostname}:${port} and no DATABASE_URL: running an embedded Postgres ` +
      `(data in ${EMBEDDED_DIR}/, kept across restarts) with the queue in ${where}.`,
  );
  say.info(
    "to use your own Postgres and Redis instead, start them on their default ports or set DATABASE_URL and REDIS_URL.",
  );
  const started = Date.now();
  const postgres = await startEmbeddedPostgres(EMBEDDED_DIR);
  say.info(
    `embedded Postgres ${postgres.reused ? "found running" : postgres.created ? "created and started" : "started"} ` +
      `in ${Date.now() - started} ms`,
  );
  process.env.DATABASE_URL = postgres.url;
  process.env.QUEUE_BACKEND = queue;
  return postgres;
}

/** Runs `body` and stops the embedded Postgres after it, however it ends. */
async function runThenStop(postgres: EmbeddedPostgres, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } finally {
    await postgres.stop().catch((error) => say.warn(`could not stop the embedded Postgres: ${error.message}`));
    say.info("embedded Postgres stopped");
  }
}

async function migrateThenRun(): Promise<number> {
  const cfg = config();
  if (!(await preflight(cfg))) return 1;
  await migrate(cfg.DATABASE_URL, { deadline: Date.now() + cfg.MIGRATE_TIMEOUT_MS });
  return runUntilStopped();
}

/** The three processes until they end or a signal comes (the terminal's Ctrl-C, npm passing it on). */
async function runUntilStopped(): Promise<number> {
  if (stoppedBy) return 0;
  const running = runProcesses(PROCESSES, { waitMs: STOP_WAIT_MS });
  onSignal = running.stop;
  return running.done;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    say.warn(`could not start: ${error.message}`);
    process.exit(1);
  },
);
