-- Ordering per record: a webhook with ordering = record delivers the events about one record (collection
-- and recordId) one at a time, in the order they were accepted. Its actions carry that record as their
-- orderKey; an action waits while an earlier unfinished one of the same webhook and record exists.
-- A constant default and a nullable column: neither table is rewritten.
ALTER TABLE "webhooks" ADD COLUMN "ordering" TEXT NOT NULL DEFAULT 'none';
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_ordering_check" CHECK ("ordering" IN ('none', 'record'));
ALTER TABLE "event_actions" ADD COLUMN "orderKey" TEXT;
-- The unfinished actions of one webhook and record, by event: what an action waits behind, and what a
-- finished one releases.
CREATE INDEX "event_actions_order_idx" ON "event_actions"("targetId", "orderKey", "eventId")
  WHERE "orderKey" IS NOT NULL AND "status" NOT IN ('completed', 'failed');
