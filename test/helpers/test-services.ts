// Where the suite finds Postgres and Redis (SPEC "Running with Node alone": npm test passes on a machine with
// only Node). The machine's own where they answer, as in CI; where Postgres does not, an embedded one for the
// run (data in .tetik/test/, as npm start's is in .tetik/); where Redis does not, the queue runs in Postgres
// and the tests of Redis itself say in one line why they did not run.
import { startEmbeddedPostgres } from "../../functions/ops/embedded-postgres.ts";
import { answersAt, redisProblem } from "../../functions/platform/wait-for-services.ts";
import { REDIS_URL } from "./redis.ts";

/** Where the suite looks for Postgres, unless TEST_DATABASE_SERVER says (test/helpers/database.ts reads it). */
export const DEFAULT_DATABASE_SERVER = "postgresql://postgres@127.0.0.1:5432";

export interface TestServices {
  /** Postgres's address with its admin user, without a database: TEST_DATABASE_SERVER. */
  databaseServer: string;
  queueBackend: "redis" | "postgres";
  /** Why the tests of Redis itself do not run (Redis is not there), or "" when it is. */
  redisMissing: string;
  stop(): Promise<void>;
}

export async function testServices(): Promise<TestServices> {
  let databaseServer = process.env.TEST_DATABASE_SERVER ?? DEFAULT_DATABASE_SERVER;
  let stop = async () => {};
  const { hostname, port } = new URL(databaseServer);
  if (!process.env.TEST_DATABASE_SERVER && !(await answersAt(hostname, Number(port || 5432)))) {
    const postgres = await startEmbeddedPostgres(".tetik/test", { auth: "trust" });
    databaseServer = `postgresql://postgres@127.0.0.1:${postgres.port}`;
    console.log(`tetik tests: no Postgres at ${hostname}:${port}: running on an embedded one (.tetik/test/)`);
    stop = postgres.stop;
  }
  const problem = await redisProblem(REDIS_URL);
  // "Redis is not reachable at host:port (reason)", without the advice on how to get it.
  const missing = problem ? problem.split("): ")[0]!.concat(")") : "";
  if (missing) console.log(`tetik tests: ${missing}: the queue runs in Postgres`);
  return {
    databaseServer,
    queueBackend: problem ? "postgres" : "redis",
    redisMissing: missing,
    stop,
  };
}
