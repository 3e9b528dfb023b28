// The dependencies of a Lambda instance: built at its first request, with the secrets it read then from
// Secrets Manager (aws-secrets.ts), and built again when a refresh finds them changed (a rotation), the
// old ones closed. One instance serves one request at a time, so nothing else uses them meanwhile.
import { announceSecurity } from "./announce-security.ts";
import { awsSecretsLoader } from "./aws-secrets.ts";
import { loadConfig, type Config } from "./config.ts";
import { closeDeps, type CoreDeps } from "./core-deps.ts";

export type DepsFactory<D extends CoreDeps> = (config: Config, component: string, poolSize: number) => D;

/** One Lambda instance serves one request at a time: a small pool is enough and spares the database. */
const LAMBDA_POOL_SIZE = 2;

export function lambdaDeps<D extends CoreDeps>(
  createDeps: DepsFactory<D>,
  component: string,
  { servesApi = true } = {},
): () => Promise<D> {
  let current: D | undefined;
  const secrets = awsSecretsLoader({
    onStale: (err) =>
      current?.log.warn({ err }, "Secrets Manager could not be read: the secrets read before stay in use"),
  });
  return async () => {
    const changed = await secrets.refresh();
    if (!current || changed) {
      const previous = current;
      current = createDeps(loadConfig(), component, LAMBDA_POOL_SIZE);
      announceSecurity(current, { servesApi });
      if (previous) void closeDeps(previous);
    }
    return current;
  };
}
