-- Flow control per webhook: at most maxPerSecond requests started in any second and maxInFlight open at
-- once, across every worker (null: no limit); an action waiting for its turn says why (waiting).
-- Nullable columns without defaults: added without rewriting either table.
ALTER TABLE "webhooks" ADD COLUMN "maxPerSecond" INTEGER;
ALTER TABLE "webhooks" ADD COLUMN "maxInFlight" INTEGER;
ALTER TABLE "event_actions" ADD COLUMN "waiting" TEXT;
-- GET /webhooks/{id} counts a webhook's waiting deliveries: few rows, found without scanning the log.
CREATE INDEX "event_actions_waiting_idx" ON "event_actions"("targetId") WHERE "waiting" IS NOT NULL;
