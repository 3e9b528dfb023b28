// `npm start`'s first step: Postgres must be there (waited for, DEPENDENCY_WAIT_MS at most); Redis may
// come later (the API accepts events without it and the worker waits for it), but if it is missing now
// the person starting tetik is told where it was looked for and how to get it.
import { pathToFileURL } from "node:url";
import { type Config, config } from "../platform/config.ts";
import { redisProblem, terminal as say, waitForPostgres } from "../platform/wait-for-services.ts";

/** False when Postgres did not come (said why); Redis missing only warns. */
export async function preflight(cfg: Config): Promise<boolean> {
  try {
    await waitForPostgres(cfg.DATABASE_URL, { waitMs: cfg.DEPENDENCY_WAIT_MS, log: say });
  } catch (error) {
    say.warn(`${(error as Error).message}. Gave up (DEPENDENCY_WAIT_MS is ${cfg.DEPENDENCY_WAIT_MS / 1000} s).`);
    return false;
  }
  const redis = cfg.QUEUE_BACKEND === "postgres" ? undefined : await redisProblem(cfg.REDIS_URL);
  if (redis)
    say.warn(
      `${redis}. Starting anyway: the API accepts events (they wait in Postgres) and the worker waits for Redis.`,
    );
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!(await preflight(config()))) process.exit(1);
}
