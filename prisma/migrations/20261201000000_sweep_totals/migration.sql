-- Totals of the sweep's work since its first run, for /metrics.
ALTER TABLE "sweep_state"
  ADD COLUMN "runs" BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN "requeuedEvents" BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN "requeuedActions" BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN "failedEvents" BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN "prunedEvents" BIGINT NOT NULL DEFAULT 0;
