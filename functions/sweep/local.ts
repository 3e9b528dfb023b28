// The sweep on a timer, for local runs: every SWEEP_INTERVAL_MS, never two runs at once.
import { runSweep } from "../domain/sweep/run-sweep.ts";
import { config } from "../platform/config.ts";
import { isDependencyDown } from "../platform/dependency-errors.ts";
import { closeDeps, createDeps } from "../platform/deps.ts";
import { dependencyOf, outageLog } from "../platform/outage-log.ts";

const deps = createDeps(config(), "sweep", 2);
let stopping = false;
let timer: NodeJS.Timeout | undefined;

async function tick() {
  try {
    await runSweep(deps);
  } catch (error) {
    // A dependency that is down would fail every run alike: said when it goes, then at a bounded rate.
    if (isDependencyDown(error)) outageLog(deps.log).down(dependencyOf(error), error);
    else deps.log.warn({ err: error }, "sweep failed; next run in one interval");
  }
  if (!stopping) timer = setTimeout(tick, deps.config.SWEEP_INTERVAL_MS);
}

deps.log.info({ intervalMs: deps.config.SWEEP_INTERVAL_MS }, "local sweep started");
void tick();

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    stopping = true;
    clearTimeout(timer);
    void closeDeps(deps).then(() => process.exit(0));
  });
}
