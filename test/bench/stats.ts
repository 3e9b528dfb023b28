/** The p-th percentile (0-100) of a list of numbers, by nearest rank; 0 for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Resident memory of a process in MiB, from /proc (Linux); undefined elsewhere or once it is gone. */
export async function rssMb(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  try {
    const { readFile } = await import("node:fs/promises");
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return kb ? round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
  } catch {
    return 0;
  }
}

/** CPU seconds per program on this machine (postgres, redis-server, node processes by pid). */
export async function cpuByProgram(pids: Record<string, number | undefined>): Promise<Record<string, number>> {
  const { readdir, readFile } = await import("node:fs/promises");
  const totals: Record<string, number> = { postgres: 0, redis: 0 };
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = (await readFile(`/proc/${entry}/comm`, "utf8").catch(() => "")).trim();
    if (comm === "postgres") totals.postgres! += await cpuSeconds(Number(entry));
    if (comm.startsWith("redis-server")) totals.redis! += await cpuSeconds(Number(entry));
  }
  for (const [name, pid] of Object.entries(pids)) if (pid) totals[name] = await cpuSeconds(pid);
  totals.bench = process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
  return totals;
}

/** Milliseconds of CPU per event for each program, between two snapshots. */
export function cpuPerEvent(
  before: Record<string, number>,
  after: Record<string, number>,
  events: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after).map((k) => [k, round(((after[k]! - (before[k] ?? 0)) * 1000) / events, 3)]),
  );
}
