-- An action's first run is made by the run that matched its event, inside that run's job: while it is in
-- flight, the action holds the event's claim lease, so the sweep does not hand it to a second job.
-- Nullable without a default: added without rewriting the table.
ALTER TABLE "event_actions" ADD COLUMN "leaseExpiresAt" TIMESTAMPTZ(3);
