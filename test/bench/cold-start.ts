// `npm run bench -- --cold-start`: what a Lambda cold start costs each function. The functions are
// packaged as for AWS (`serverless package`: one zip each, bundled by esbuild); each zip is unpacked and
// its handler imported in a fresh Node process, which then serves one request (an API Gateway HTTP API
// event) against a warm database. Reported per function: the zip's size, the import (init) time, and the
// time from the process's start to its first answer. `--cold-start-from DIR` measures another checkout
// (e.g. the code before a change) the same way.
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

export interface ColdStart {
  zipKiB: number;
  initMs: number;
  firstAnswerMs: number;
  status: number | string;
}

/** One request per function, as API Gateway hands it to the Lambda. */
const REQUESTS: Record<string, { method: string; path: string; body?: unknown }> = {
  events: {
    method: "POST",
    path: "/events",
    body: { type: "collection.created", collection: "cold", recordId: "c-1", data: { n: 1 } },
  },
  collections: { method: "POST", path: "/collections/cold/records", body: { data: { n: 1 } } },
  health: { method: "GET", path: "/health" },
  definitions: { method: "GET", path: "/definitions" },
  webhooks: { method: "GET", path: "/webhooks" },
  webhookTesting: { method: "POST", path: "/webhooks/whk_missing/test" },
};

function apiGatewayEvent({ method, path, body }: { method: string; path: string; body?: unknown }) {
  return {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/json", host: "cold.example.com" },
    requestContext: {
      domainName: "cold.example.com",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
      requestId: "cold",
      stage: "$default",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** The program a fresh process runs: import the handler, serve one request, print the timings. */
const PROBE = `
const started = performance.now();
const { handler } = await import(process.env.HANDLER_FILE);
const imported = performance.now();
const answer = await handler(JSON.parse(process.env.LAMBDA_EVENT), {
  awsRequestId: "cold",
  getRemainingTimeInMillis: () => 29000,
});
console.log(JSON.stringify({
  initMs: imported - started,
  firstAnswerMs: process.uptime() * 1000,
  status: answer?.statusCode ?? "ok",
}));
process.exit(0);
`;

function probe(file: string, event: unknown, env: Record<string, string>): Promise<Omit<ColdStart, "zipKiB">> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", PROBE], {
      env: { ...process.env, ...env, HANDLER_FILE: pathToFileURL(file).href, LAMBDA_EVENT: JSON.stringify(event) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", () => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith('{"initMs"'));
      if (!line) return reject(new Error(`cold start probe of ${file} printed nothing: ${err.slice(-2000)}`));
      const result = JSON.parse(line);
      resolve({
        initMs: Math.round(result.initMs),
        firstAnswerMs: Math.round(result.firstAnswerMs),
        status: result.status,
      });
    });
  });
}

/** Packages `root`'s functions and measures each one's cold start `repeat` times (the median is kept). */
export async function measureColdStarts(
  root: string,
  env: Record<string, string>,
  log: (m: string) => void,
  repeat = 3,
): Promise<Record<string, ColdStart>> {
  const out = mkdtempSync(join(tmpdir(), "tetik-cold-"));
  try {
    log(`cold start: packaging the functions of ${root}`);
    await promisify(execFile)(
      join(root, "node_modules/.bin/serverless"),
      ["package", "--stage", "coldstart", "--package", join(out, "package")],
      {
        cwd: root,
        timeout: 300_000,
        env: {
          ...process.env,
          SLS_TELEMETRY_DISABLED: "1",
          SLS_NOTIFICATIONS_MODE: "off",
          ESBUILD_WORK_FOLDER: join(out, "esbuild"),
        },
      },
    );
    const results: Record<string, ColdStart> = {};
    for (const zip of readdirSync(join(out, "package")).filter((f) => f.endsWith(".zip"))) {
      const name = zip.replace(/\.zip$/, "");
      const request = REQUESTS[name];
      if (!request) continue;
      const dir = join(out, "unzipped", name);
      mkdirSync(dir, { recursive: true });
      await promisify(execFile)("unzip", ["-q", join(out, "package", zip), "-d", dir]);
      const file = findHandler(dir);
      const runs: Array<Omit<ColdStart, "zipKiB">> = [];
      for (let i = 0; i < repeat; i++) runs.push(await probe(file, apiGatewayEvent(request), env));
      const median = <K extends "initMs" | "firstAnswerMs">(k: K) =>
        runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
      results[name] = {
        zipKiB: Math.round(statSync(join(out, "package", zip)).size / 1024),
        initMs: median("initMs"),
        firstAnswerMs: median("firstAnswerMs"),
        status: runs[0]!.status,
      };
      log(`cold start ${name}: ${JSON.stringify(results[name])}`);
    }
    return results;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The bundled handler in an unpacked zip: functions/api/<name>.mjs. */
function findHandler(dir: string): string {
  const api = join(dir, "functions", "api");
  const file = readdirSync(api).find((f) => f.endsWith(".mjs"));
  if (!file) throw new Error(`no bundled handler in ${api}`);
  return join(api, file);
}
