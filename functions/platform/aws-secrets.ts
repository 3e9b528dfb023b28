// In AWS the functions read their secrets from Secrets Manager when they run, never from their
// environment (where anyone who may read the function's configuration would see them). AWS_SECRETS says
// which: "DATABASE_PASSWORD=<secret arn>#password,API_KEY=<secret arn>#apiKey,...". Each instance reads
// them at its first request and again once they are SECRETS_REFRESH_MS old, so a rotated secret reaches
// every instance within that time, with no redeploy; and at once when Postgres refuses the password it
// has (see lambda-deps.ts).
//
// The AWS SDK comes with the Lambda runtime: it is imported only here, only when AWS_SECRETS is set.
import { UnavailableError } from "./dependency-errors.ts";

const SECRETS_MANAGER = "@aws-sdk/client-secrets-manager";
const DEFAULT_REFRESH_MS = 5 * 60_000;
/** When a refresh fails, the values read before stay in use and the next try is this much later. */
const RETRY_MS = 30_000;

interface Wanted {
  name: string;
  secretId: string;
  key: string;
}

function wanted(spec: string): Wanted[] {
  return spec
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^([A-Z_][A-Z0-9_]*)=(.+)#([^#]+)$/.exec(entry);
      if (!match) throw new Error(`AWS_SECRETS: "${entry}" is not NAME=<secret id>#<json key>`);
      return { name: match[1]!, secretId: match[2]!, key: match[3]! };
    });
}

/** After a forced read, the next one waits this long: a password that is simply wrong must not make every
 * request ask Secrets Manager. */
const FORCED_GAP_MS = 10_000;

export interface SecretsLoader {
  /**
   * Puts the secrets into `env` when they were never read or are due again (`force`: now, when the last
   * forced read is FORCED_GAP_MS old); answers whether any value changed (then what was built from the old
   * ones must be built again). Secrets Manager unreachable: throws UnavailableError the first time; later
   * the values read before stay (`onStale` hears why).
   */
  refresh(options?: { force?: boolean }): Promise<boolean>;
}

export interface SecretsLoaderOptions {
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  onStale?: (error: unknown) => void;
}

export function awsSecretsLoader({
  env = process.env,
  now = Date.now,
  onStale,
}: SecretsLoaderOptions = {}): SecretsLoader {
  const spec = env.AWS_SECRETS;
  const refreshMs = Number(env.SECRETS_REFRESH_MS ?? DEFAULT_REFRESH_MS);
  let loadedAt = -Infinity;
  let forcedAt = -Infinity;
  // What this loader read last: "changed" is about its own last read, whatever else wrote to `env`.
  const seen = new Map<string, string>();
  let client: { send(command: unknown): Promise<{ SecretString?: string }> } | undefined;
  let GetSecretValue: (new (input: { SecretId: string }) => unknown) | undefined;
  return {
    async refresh({ force = false } = {}) {
      if (!spec) return false;
      const forced = force && now() - forcedAt >= FORCED_GAP_MS;
      if (forced) forcedAt = now();
      else if (now() - loadedAt < refreshMs) return false;
      try {
        return await read(spec);
      } catch (error) {
        if (loadedAt === -Infinity) throw new UnavailableError(`Secrets Manager (${(error as Error).message})`);
        loadedAt = now() - refreshMs + Math.min(RETRY_MS, refreshMs);
        onStale?.(error);
        return false;
      }
    },
  };

  async function read(spec: string): Promise<boolean> {
    if (!client) {
      const sdk = await import(SECRETS_MANAGER);
      // Every wait bounded: the SDK's own defaults wait on a silent connection forever.
      client = new sdk.SecretsManagerClient({
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
      });
      GetSecretValue = sdk.GetSecretValueCommand;
    }
    const items = wanted(spec);
    // One call per secret, however many keys are read from it.
    const ids = [...new Set(items.map((item) => item.secretId))];
    const values = new Map(
      await Promise.all(
        ids.map(
          async (id) =>
            [id, JSON.parse((await client!.send(new GetSecretValue!({ SecretId: id }))).SecretString ?? "{}")] as const,
        ),
      ),
    );
    let changed = false;
    for (const item of items) {
      const value = values.get(item.secretId)?.[item.key];
      if (typeof value !== "string") throw new Error(`AWS_SECRETS: the secret ${item.secretId} has no key ${item.key}`);
      if (seen.get(item.name) !== value) changed = true;
      seen.set(item.name, value);
      env[item.name] = value;
    }
    loadedAt = now();
    return changed;
  }
}
