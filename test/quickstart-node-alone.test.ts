// The quick start on a machine with only Node (SPEC "Running with Node alone"): a copy of the project, PATH
// with nothing but node, npm, npx and sh, and nothing answering at Postgres's and Redis's default addresses (a
// network namespace of its own where the machine's services answer there, for the other tests).
// `npm install` runs offline over a hard-linked copy of node_modules (the registry is not the point here).
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { answersAt } from "../functions/platform/wait-for-services.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "tetik-node-alone-"));
const project = join(work, "tetik");
// mkdtemp makes it private; as root, Postgres runs as another user, who must reach the project.
chmodSync(work, 0o755);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The project's files as a fresh clone has them, and its node_modules hard-linked (a copy in a second). */
function copyProject() {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: root })
    .toString()
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(project, file)), { recursive: true });
    cpSync(join(root, file), join(project, file), { dereference: false, errorOnExist: false });
  }
  execFileSync("cp", ["-al", join(root, "node_modules"), join(project, "node_modules")]);
}

/** A bin directory with only Node's tools (and the shell npm runs scripts with). */
function nodeOnlyPath(): string {
  const bin = join(work, "bin");
  mkdirSync(bin);
  const which = (tool: string) =>
    realpathSync(
      execFileSync("sh", ["-c", `command -v ${tool}`])
        .toString()
        .trim(),
    );
  symlinkSync(process.execPath, join(bin, "node"));
  for (const tool of ["npm", "npx", "sh"]) symlinkSync(which(tool), join(bin, tool));
  return bin;
}

/**
 * Runs the driver where nothing answers at Postgres's and Redis's default addresses: here already on a machine
 * with only Node, else in a network namespace of its own.
 */
async function runInOwnNetwork(path: string): Promise<{ code: number | null; output: string }> {
  const driver = join(project, "test", "helpers", "quickstart-on-node-alone.ts");
  const tsx = join(project, "node_modules", "tsx", "dist", "loader.mjs");
  const node = `"${process.execPath}" --import "${tsx}" "${driver}" "${project}" "${path}"`;
  const servicesHere = (await answersAt("127.0.0.1", 5432)) || (await answersAt("127.0.0.1", 6379));
  // As root a new network namespace needs nothing more; as anyone else, a user namespace that keeps the uid.
  const unshare = process.getuid?.() === 0 ? ["-n"] : ["-n", "--map-current-user"];
  const [command, args] = servicesHere
    ? ["unshare", [...unshare, "sh", "-c", `ip link set lo up && exec ${node}`]]
    : ["sh", ["-c", `exec ${node}`]];
  return new Promise((done) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("error", (error) => done({ code: -1, output: `${command} could not run: ${error.message}` }));
    child.once("exit", (code) => done({ code, output }));
  });
}

describe("npm install and npm start on a machine with only Node", () => {
  it("serves the quick start on an embedded Postgres, stops everything on Ctrl-C, and keeps the event", async () => {
    copyProject();
    const { code, output } = await runInOwnNetwork(nodeOnlyPath());
    const line = output.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) throw new Error(`the quick start did not finish (exit ${code}):\n${output.slice(-6_000)}`);
    const result = JSON.parse(line.slice("RESULT ".length));
    console.log(
      `[node alone] first answer ${result.first.firstAnswerMs} ms with a new database, ` +
        `${result.second.firstAnswerMs} ms with the data from before`,
    );

    expect(result.install.code).toBe(0);
    // The first lines say what runs and how to use real services instead.
    const head = result.first.head.join("\n");
    expect(head).toContain("no Postgres at 127.0.0.1:5432 and no DATABASE_URL: running an embedded Postgres");
    expect(head).toContain("with the queue in it, no Redis");
    expect(head).toContain("set DATABASE_URL and REDIS_URL");
    expect(head).toContain("embedded Postgres created and started");

    expect(result.first.statuses).toEqual([201, 201, 202]);
    expect(result.first.event).toMatchObject({ status: "completed", recordId: "o-1", data: { total: 120 } });
    expect(result.first.deliveries).toHaveLength(1);
    expect(result.first.deliveries[0].body).toMatchObject({ data: { total: 120 } });
    expect(result.first.deliveries[0].signature).toMatch(/^v1,/);
    // Ctrl-C: npm ends as it does on Ctrl-C for any script, and every process it started is gone, the
    // embedded Postgres included.
    expect(result.first.stop).toEqual({ npm: "SIGINT", leftRunning: [] });
    expect(result.first.tail.join("\n")).toContain("embedded Postgres stopped");

    // A second npm start finds the data of the first.
    expect(result.second.head.join("\n")).toContain("embedded Postgres started");
    expect(result.second.head.join("\n")).not.toContain("created");
    expect(result.second.event).toMatchObject({
      status: 200,
      body: { id: result.first.event.id, status: "completed" },
    });
    expect(result.second.stop).toEqual({ npm: "SIGINT", leftRunning: [] });
  }, 300_000);
});
