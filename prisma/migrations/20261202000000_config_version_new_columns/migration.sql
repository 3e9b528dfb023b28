-- The rule that moves config_version when a webhook changes listed the columns the worker caches, so a
-- column added later and forgotten here would leave workers on stale settings without a sign. It now
-- names the columns the worker does not cache instead (health, written by every failed delivery, and
-- updatedAt): any other change, to a column of today or of tomorrow, moves the version.
-- No quote characters in comments (see 20261127030000_config_version).
CREATE OR REPLACE RULE "webhooks_update_bumps" AS ON UPDATE TO "webhooks"
  WHERE (to_jsonb(OLD.*) - ARRAY['consecutiveFailures', 'lastSuccessAt', 'lastFailureAt', 'lastError', 'disabledReason', 'updatedAt'])
    IS DISTINCT FROM
        (to_jsonb(NEW.*) - ARRAY['consecutiveFailures', 'lastSuccessAt', 'lastFailureAt', 'lastError', 'disabledReason', 'updatedAt'])
  DO ALSO UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;
