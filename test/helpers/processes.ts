// tetik as a user runs it: serverless offline and the worker as child processes, on ports of their own.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../../functions/ops/embedded-postgres.ts";
import { waitFor } from "./wait.ts";

export { freePort };

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface RunningProcess {
  pid: number | undefined;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 10 s; answers the exit code. */
  stop(): Promise<number | null>;
  /** Sends a signal to the whole process group at once. */
  kill(signal: NodeJS.Signals): void;
}

/** Starts a command in its own process group, so stop() reaches every process it spawned. */
export function startProcess(command: string, args: string[], env: Record<string, string>): RunningProcess {
  const child: ChildProcess = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {}
  };
  return {
    pid: child.pid,
    output: () => output,
    exited,
    kill,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      kill("SIGTERM");
      // Past the worker's own grace for jobs in flight (25 s), as an orchestrator would wait.
      const timer = setTimeout(() => kill("SIGKILL"), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export function startWorkerProcess(env: Record<string, string>): RunningProcess {
  return startProcess(process.execPath, ["--import", "tsx", "functions/worker/main.ts"], env);
}

/** serverless offline on free ports; resolves once GET /health answers. */
export async function startOffline(env: Record<string, string>): Promise<RunningProcess & { url: string }> {
  const [http, lambda, websocket] = [await freePort(), await freePort(), await freePort()];
  const running = startProcess(`${root}/node_modules/.bin/serverless`, ["offline", "start", "--stage", "local"], {
    SLS_TELEMETRY_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
    SWEEP_SCHEDULE_ENABLED: "false",
    PORT: String(http),
    OFFLINE_LAMBDA_PORT: String(lambda),
    OFFLINE_WEBSOCKET_PORT: String(websocket),
    // Its own build folder: other tests may package or run serverless at the same time.
    ESBUILD_WORK_FOLDER: `.esbuild-${http}`,
    ...env,
  });
  const url = `http://127.0.0.1:${http}`;
  try {
    await waitFor(
      async () => {
        const res = await fetch(`${url}/health`);
        return res.status === 200;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "serverless offline to answer /health" },
    );
  } catch (error) {
    await running.stop();
    throw new Error(`${(error as Error).message}\n--- serverless offline output ---\n${running.output()}`);
  }
  return { ...running, url };
}
