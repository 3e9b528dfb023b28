// The dependencies of a Lambda instance: built at its first request, with the secrets it read then from
// Secrets Manager (aws-secrets.ts), and built again when a refresh finds them changed (a rotation), the
// old ones closed. One instance serves one request at a time, so nothing else uses them meanwhile.
//
// A rotated database password reaches an instance at its next refresh (SECRETS_REFRESH_MS) or sooner:
// when Postgres refuses the password the instance has, it reads its secrets at once, and the caller may
// run its work again with the dependencies built from them.
import { announceSecurity, type ProcessRole } from "./announce-security.ts";
import { awsSecretsLoader } from "./aws-secrets.ts";
import { loadConfig, type Config } from "./config.ts";
import { closeDeps, type CoreDeps } from "./core-deps.ts";

export type DepsFactory<D extends CoreDeps> = (
  config: Config,
  component: string,
  poolSize: number,
  onAuthFailure: () => void,
) => D;

/** One Lambda instance serves one request at a time: a small pool is enough and spares the database. */
const LAMBDA_POOL_SIZE = 2;

export interface LambdaDeps<D> {
  /**
   * Runs `work` with the instance's dependencies, current with its secrets. When Postgres refused the
   * password during it (`work` threw, or its outcome is `failed`), the secrets are read again (at most once
   * per 10 s) and, if they changed, `work` runs once more with dependencies built from them; otherwise the
   * first outcome stands.
   */
  run<T>(work: (deps: D) => Promise<T>, failed?: (outcome: T) => boolean): Promise<T>;
}

export function lambdaDeps<D extends CoreDeps>(
  createDeps: DepsFactory<D>,
  component: string,
  role: ProcessRole = {},
): LambdaDeps<D> {
  let current: D | undefined;
  let authFailed = false;
  const secrets = awsSecretsLoader({
    onStale: (err) =>
      current?.log.warn({ err }, "Secrets Manager could not be read: the secrets read before stay in use"),
  });
  const build = () => {
    const previous = current;
    authFailed = false;
    current = createDeps(loadConfig(), component, LAMBDA_POOL_SIZE, () => (authFailed = true));
    announceSecurity(current, role);
    if (previous) void closeDeps(previous);
    return current;
  };
  const get = async () => {
    // A refusal counts for the work that follows this call only.
    authFailed = false;
    const changed = await secrets.refresh();
    return !current || changed ? build() : current;
  };
  const renewAfterAuthFailure = async () => {
    if (!authFailed) return undefined;
    authFailed = false;
    const changed = await secrets.refresh({ force: true });
    current?.log.warn({ secretsChanged: changed }, "Postgres refused the password: secrets read again");
    return changed ? build() : undefined;
  };
  return {
    async run<T>(work: (deps: D) => Promise<T>, failed: (outcome: T) => boolean = () => false) {
      let outcome: T;
      try {
        outcome = await work(await get());
      } catch (error) {
        const renewed = await renewAfterAuthFailure();
        if (!renewed) throw error;
        return work(renewed);
      }
      if (!failed(outcome)) return outcome;
      const renewed = await renewAfterAuthFailure();
      return renewed ? work(renewed) : outcome;
    },
  };
}
