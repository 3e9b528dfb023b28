// The README's quick start as a newcomer runs it on a machine with only Node: run by
// test/quickstart-node-alone.test.ts inside a network namespace of its own (nothing answers at Postgres's and
// Redis's default addresses) with PATH holding only node, npm, npx and sh. It prints one line, RESULT {...},
// with what a person would have seen; the test asserts on it.
//   tsx test/helpers/quickstart-on-node-alone.ts <project dir> <PATH for the project>
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { startReceiver } from "./receiver.ts";
import { waitFor } from "./wait.ts";

const [dir, path] = process.argv.slice(2) as [string, string];
const env = {
  HOME: process.env.HOME ?? "/tmp",
  PATH: path,
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
};
const api = "http://127.0.0.1:3000";

interface Run {
  child: ChildProcess;
  output(): string;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string | null>;
}

function run(command: string): Run {
  const child = spawn(command, { cwd: dir, env, shell: true, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | string | null>((done) =>
    child.once("exit", (code, signal) => done(signal ?? code)),
  );
  return { child, output: () => output, exited };
}

async function call(method: string, route: string, body?: unknown) {
  const res = await fetch(`${api}${route}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** `npm start` until /health answers 200; how long that took. */
async function start(): Promise<{ run: Run; firstAnswerMs: number }> {
  const started = Date.now();
  const running = run("npm start");
  const answered = waitFor(async () => (await fetch(`${api}/health`)).status === 200, {
    timeoutMs: 120_000,
    intervalMs: 100,
    what: "npm start to answer /health",
  });
  const ended = running.exited.then((code) => Promise.reject(new Error(`npm start ended (exit code ${code})`)));
  await Promise.race([answered, ended]).catch((error) => {
    throw new Error(`${error.message}\n${running.output()}`);
  });
  return { run: running, firstAnswerMs: Date.now() - started };
}

/**
 * Ctrl-C as a terminal sends it (to the whole foreground group): how npm ended, and what still runs once
 * everything has had the time it is given to stop (the worker's 25 s grace, then Postgres).
 */
async function interrupt(running: Run) {
  process.kill(-(running.child.pid ?? 0), "SIGINT");
  const npm = await Promise.race([running.exited, sleep(60_000).then(() => "still running")]);
  // The bounds it is given: the worker's 25 s grace, then Postgres's 30 s stop (STOP_TIMEOUT_S), and a margin.
  const leftRunning = await waitFor(() => processesOf(dir).length === 0 && [], {
    timeoutMs: 65_000,
    what: "every process to end",
  }).catch(() => processesOf(dir));
  return { npm, leftRunning };
}

/** Command lines of the processes whose command line names `dir` (this one and its own children excepted). */
function processesOf(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      // The 4th field of stat, after the command's name in parentheses: the parent (this one's own esbuild, the
      // TypeScript loader's, is not npm start's).
      const parent = Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);
      if (cmdline.includes(dir) && parent !== process.pid) found.push(cmdline);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const receiver = await startReceiver();
const result: Record<string, unknown> = {};
const install = run("npm install --offline --no-audit --no-fund");
result.install = { code: await install.exited, output: install.output().slice(-2_000) };

const first = await start();
const definition = await call("POST", "/definitions", {
  name: "big-orders",
  type: "collection.created",
  collection: "orders",
  condition: { "data.total": { $gt: 100 } },
});
const webhook = await call("POST", "/webhooks", { definitionId: definition.body.id, url: `${receiver.url}/orders` });
const event = await call("POST", "/events", {
  type: "collection.created",
  collection: "orders",
  recordId: "o-1",
  data: { total: 120 },
});
const completed = await waitFor(
  async () => {
    const shown = await call("GET", `/events/${event.body.id}`);
    return shown.body.status === "completed" && shown;
  },
  { timeoutMs: 30_000, what: "the quick-start event to complete" },
).catch((error) => ({ status: 0, body: { error: String(error) } }));
result.first = {
  firstAnswerMs: first.firstAnswerMs,
  head: first.run.output().split("\n").slice(0, 12),
  statuses: [definition.status, webhook.status, event.status],
  event: completed.body,
  deliveries: receiver.at("/orders").map((r) => ({ body: r.json, signature: r.headers["webhook-signature"] })),
  stop: await interrupt(first.run),
  tail: first.run.output().split("\n").slice(-8),
};

const second = await start();
const kept = await call("GET", `/events/${event.body.id}`);
result.second = {
  firstAnswerMs: second.firstAnswerMs,
  head: second.run.output().split("\n").slice(0, 12),
  event: kept,
  stop: await interrupt(second.run),
};
await receiver.close();
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);
