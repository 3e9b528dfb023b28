-- A counter that moves whenever what the worker caches changes: definitions, their triggers, and the
-- delivery settings of webhooks (not their health columns, which change with every failure). Workers read
-- it together with the events they load, so a cache is never used past a change that came before an event.
-- Rules rather than trigger functions: the migration runner of Prisma splits scripts at every semicolon,
-- so no function body survives it. No quote characters in comments, for the same reason.
CREATE TABLE "config_version" (
    "id" INTEGER NOT NULL PRIMARY KEY CHECK ("id" = 1),
    "version" BIGINT NOT NULL
);
INSERT INTO "config_version" ("id", "version") VALUES (1, 1);

CREATE RULE "event_definitions_insert_bumps" AS ON INSERT TO "event_definitions" DO ALSO UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;
CREATE RULE "event_definitions_update_bumps" AS ON UPDATE TO "event_definitions" DO ALSO UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;
CREATE RULE "event_definitions_delete_bumps" AS ON DELETE TO "event_definitions" DO ALSO UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;

CREATE RULE "event_triggers_insert_bumps" AS ON INSERT TO "event_triggers" DO ALSO UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;
CREATE RULE "event_triggers_update_bumps" AS ON UPDATE TO "event_triggers" DO ALSO UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;
CREATE RULE "event_triggers_delete_bumps" AS ON DELETE TO "event_triggers" DO ALSO UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;

CREATE RULE "webhooks_insert_bumps" AS ON INSERT TO "webhooks" DO ALSO UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;
CREATE RULE "webhooks_delete_bumps" AS ON DELETE TO "webhooks" DO ALSO UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;
CREATE RULE "webhooks_update_bumps" AS ON UPDATE TO "webhooks"
  WHERE (OLD."definitionId", OLD."url", OLD."method", OLD."headers"::text, OLD."payload"::text, OLD."active", OLD."timeoutMs",
         OLD."retryMaxAttempts", OLD."retryBackoff", OLD."retryDelayMs", OLD."retryMaxDelayMs", OLD."secret",
         OLD."previousSecret", OLD."previousSecretExpiresAt")
    IS DISTINCT FROM
        (NEW."definitionId", NEW."url", NEW."method", NEW."headers"::text, NEW."payload"::text, NEW."active", NEW."timeoutMs",
         NEW."retryMaxAttempts", NEW."retryBackoff", NEW."retryDelayMs", NEW."retryMaxDelayMs", NEW."secret",
         NEW."previousSecret", NEW."previousSecretExpiresAt")
  DO ALSO UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;
