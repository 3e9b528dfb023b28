// Serverless function "sweep", on schedule rate(1 minute). Locally `npm start` runs the same code on a
// timer (functions/sweep/local.ts).
import { runSweep } from "../domain/sweep/run-sweep.ts";
import { config } from "../platform/config.ts";
import { createDeps, type Deps } from "../platform/deps.ts";

let deps: Deps | undefined;

export async function handler() {
  deps ??= createDeps(config(), "sweep", 2);
  return runSweep(deps);
}
