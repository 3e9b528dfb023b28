// Runs `npm start`'s processes side by side, each output line prefixed with the process's name and its JSON
// logs made readable (pino-pretty, here rather than in a pipe, so a Ctrl-C cannot end the reader before the
// writer's last lines). Each runs in a process group of its own (its shell, npm and tsx alike), so stopping
// signals whole groups with nothing left behind. Not concurrently: its kill path runs `ps`, which Node-only
// machines and slim images lack (it crashed there and left the processes running).
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { styleText } from "node:util";
import { prettyFactory } from "pino-pretty";

export interface NamedProcess {
  name: string;
  color: Parameters<typeof styleText>[0];
  /** A shell command line (pipes allowed). */
  command: string;
}

export interface RunningProcesses {
  /** The exit code to leave with: 0 after stop(), else that of the first process to end on its own. */
  done: Promise<number>;
  /** Signals every group once; those still running after `waitMs` are killed. */
  stop(signal: NodeJS.Signals): void;
}

export function runProcesses(processes: NamedProcess[], { waitMs }: { waitMs: number }): RunningProcesses {
  const width = Math.max(...processes.map((p) => p.name.length));
  const readable = prettyFactory({ colorize: Boolean(process.stdout.isTTY) });
  let stopping = false;
  let exitCode = 0;
  const children = processes.map((p) => {
    const child = spawn(p.command, { shell: true, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const prefix = `[${p.name.padEnd(width)}]`;
    const label = process.stdout.isTTY ? styleText(p.color, prefix) : prefix;
    const write = (to: NodeJS.WriteStream, text: string) => {
      for (const line of text.trimEnd().split("\n")) to.write(`${label} ${line}\n`);
    };
    createInterface({ input: child.stdout }).on("line", (line) => write(process.stdout, readable(line)));
    createInterface({ input: child.stderr }).on("line", (line) => write(process.stderr, line));
    return { name: p.name, child, exited: new Promise<void>((done) => child.once("exit", () => done())) };
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const { child } of children) signalGroup(child, signal);
    setTimeout(() => {
      for (const { child } of children) signalGroup(child, "SIGKILL");
    }, waitMs).unref();
  };
  for (const { name, child } of children) {
    child.once("exit", (code, signal) => {
      if (stopping) return;
      process.stderr.write(`tetik: ${name} ended (${signal ?? `exit code ${code}`}): stopping the others\n`);
      exitCode = code || 1;
      stop("SIGTERM");
    });
  }
  return {
    done: Promise.all(children.map((c) => c.exited)).then(() => exitCode),
    stop,
  };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone
  }
}
