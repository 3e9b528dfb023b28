// `npm run secrets:reencrypt`: seals every webhook secret and secret header value with SECRETS_KEY (see README,
// "Secrets at rest").
import { reencryptSecrets } from "../domain/webhooks/reencrypt-secrets.ts";
import { config } from "../platform/config.ts";
import { closeDeps, createDeps } from "../platform/deps.ts";

const deps = createDeps(config(), "ops", 2);
try {
  if (!deps.secrets.encrypting)
    deps.log.warn("SECRETS_KEY is not set: secrets sealed with SECRETS_KEY_PREVIOUS are stored in plain text again");
  const result = await reencryptSecrets(deps);
  deps.log.info(result, "webhook secrets sealed with the current key");
} catch (error) {
  deps.log.error(
    { err: error },
    "re-encryption stopped; rows done so far keep their new seal, run it again once the cause is fixed",
  );
  process.exitCode = 1;
} finally {
  await closeDeps(deps);
}
