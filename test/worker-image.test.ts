// The container image holds only what infra/worker.Dockerfile's last stage copies: the bundles, the
// migrations and Swagger UI's files, no node_modules. No Docker engine runs here, so this test reads those
// COPY lines, lays the same files out in a folder of its own and runs tetik from it with plain `node`:
// migrations, the API server and the worker, to a delivery. It also holds the Dockerfile to a build that
// needs no emulation for ARM64 (nothing runs in the last stage) and to a pinned base.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTetikClient } from "tetik/client";
import { refereedKy } from "./helpers/contract.ts";
import { freePort, startProcess, type RunningProcess } from "./helpers/processes.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

const dockerfile = readFileSync("infra/worker.Dockerfile", "utf8");
/** The instructions after the last FROM: what the image is. */
const lastStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
const root = mkdtempSync(join(tmpdir(), "tetik-image-"));
const built = join(root, "built");
const app = join(root, "app");

/** The files of each `COPY [--from=build] <sources...> <destination>` of the last stage, copied into `app`. */
function layOutImage() {
  for (const line of lastStage.split("\n").filter((l) => l.startsWith("COPY "))) {
    const words = line.split(/\s+/).slice(1);
    const fromBuild = words[0] === "--from=build";
    const paths = fromBuild ? words.slice(1) : words;
    const destination = join(app, paths.at(-1)!);
    for (const source of paths.slice(0, -1)) {
      // The build stage's /app is the repository, but for dist/, which this test builds itself.
      const local = fromBuild ? source.replace(/^\/app\/dist/, built).replace(/^\/app\//, "") : source;
      const target = paths.at(-1)!.endsWith("/") ? join(destination, source.split("/").at(-1)!) : destination;
      mkdirSync(dirname(target), { recursive: true });
      cpSync(local, target, { recursive: true });
    }
  }
}

let stack: TestStack;
let receiver: Receiver;
const running: RunningProcess[] = [];
/** `node <program>` in the image's folder, with only the given environment's settings. */
const node = (program: string, env: Record<string, string>) => {
  const started = startProcess(process.execPath, ["--enable-source-maps", program], { ...env, LOG_LEVEL: "info" });
  running.push(started);
  return started;
};

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack({ worker: false }), startReceiver()]);
  await promisify(execFile)(process.execPath, ["--import", "tsx", "infra/build.ts", built], { timeout: 120_000 });
  layOutImage();
}, 180_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  await Promise.allSettled([stack?.stop(), receiver?.close()]);
  rmSync(root, { recursive: true, force: true });
});

describe("the worker image", () => {
  it("is built without emulation (nothing runs in its last stage) from a pinned Node release", () => {
    expect(lastStage).not.toMatch(/^RUN /m);
    expect(dockerfile).toMatch(/^FROM --platform=\$BUILDPLATFORM \$\{NODE_IMAGE\} AS build$/m);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/m);
    // No node_modules but Swagger UI's four files.
    expect(lastStage).not.toMatch(/COPY[^\n]*node_modules \.\/node_modules/);
  });

  it("runs tetik from its files alone: migrations, the API server (with its reference page), the worker, " +
    "the sweep and the re-sealing of secrets", async () => {
    const { stdout } = await promisify(execFile)("du", ["-sk", app]);
    console.info(
      `the image's files: ${Math.round(Number(stdout.split("\t")[0]) / 1024)} MiB (was 245 MiB of node_modules alone)`,
    );

    // As docker compose runs them: the migrations first (as the tables' owner), on a database of their own.
    const database = `tetik_image_${Math.random().toString(36).slice(2, 8)}`;
    const migrate = startProcess(process.execPath, [join(app, "dist/migrate.mjs")], {
      DATABASE_URL: stack.env.DATABASE_URL!.replace(/\/\/[^@]*@/, "//postgres@").replace(/\/[^/]+$/, `/${database}`),
    });
    expect(await migrate.exited, migrate.output()).toBe(0);
    expect(migrate.output()).toMatch(/applied \d+ migration\(s\)/);
    await stack.owner.query(`DROP DATABASE ${database} WITH (FORCE)`);

    const port = await freePort();
    const env = { ...stack.env, PORT: String(port) };
    const api = node(join(app, "dist/server.mjs"), env);
    const worker = node(join(app, "dist/worker.mjs"), env);
    const tetik = createTetikClient({ baseUrl: `http://127.0.0.1:${port}`, ky: refereedKy });
    await waitFor(async () => (await tetik.health().catch(() => undefined))?.database === "up", {
      timeoutMs: 30_000,
      what: `the API server from the image's files: ${api.output().slice(-500)}`,
    });
    const page = await fetch(`http://127.0.0.1:${port}/docs/swagger-ui-bundle.js`);
    expect(page.status).toBe(200);
    expect((await page.text()).length).toBeGreaterThan(100_000);

    await waitFor(() => worker.output().includes("worker started"), { timeoutMs: 30_000, what: "the worker" });
    const definition = await tetik.definitions.create({ name: "image", type: "collection.created", collection: "img" });
    await tetik.webhooks.create({ definitionId: definition.id, url: `${receiver.url}/image` });
    const { id } = await tetik.events.ingest({
      type: "collection.created",
      collection: "img",
      recordId: "i-1",
      data: {},
    });
    await waitFor(() => receiver.at("/image").length === 1, { timeoutMs: 30_000, what: "the worker to deliver" });
    await waitFor(async () => (await tetik.events.get(id)).status === "completed", {
      timeoutMs: 10_000,
      what: "the event to be completed",
    });

    // The one-off programs: the sweep's timer, and re-sealing webhook secrets with SECRETS_KEY.
    const sweep = node(join(app, "dist/sweep.mjs"), env);
    await waitFor(() => sweep.output().includes("sweep done"), { timeoutMs: 30_000, what: "the sweep to run" });
    const reseal = node(join(app, "dist/reencrypt-secrets.mjs"), {
      ...env,
      SECRETS_KEY: "qGcTKeJjJ1M3r9QxXvQFx6sQzCjS1m0oQpLb2xVj3aE",
    });
    expect(await reseal.exited, reseal.output()).toBe(0);
    expect(reseal.output()).toContain("webhook secrets sealed with the current key");
    expect(api.output() + worker.output() + sweep.output()).not.toMatch(/Cannot find (module|package)/);
  }, 120_000);
});
