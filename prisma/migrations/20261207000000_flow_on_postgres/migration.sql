-- Flow control kept in Postgres, for deployments without Redis (QUEUE_BACKEND=postgres): the same state the
-- Redis limiter keeps in sorted sets and keys (functions/platform/flow-limiter.ts). Small, short-lived rows,
-- changed under a per-webhook advisory lock; times are milliseconds since the epoch on Postgres's clock.
-- kind: 'start' (a request started, kept a second), 'booking' (a turn booked for a waiting request),
-- 'open' (a request in flight, until its lease ends).
CREATE TABLE "flow_entries" (
    "webhookId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "member" TEXT NOT NULL,
    "at" BIGINT NOT NULL,
    CONSTRAINT "flow_entries_pkey" PRIMARY KEY ("webhookId", "kind", "member")
);
CREATE INDEX "flow_entries_at_idx" ON "flow_entries"("webhookId", "kind", "at");

-- A receiver's pause, the probe after it, and the 429 back-off count, per webhook.
CREATE TABLE "flow_pauses" (
    "webhookId" TEXT NOT NULL,
    "pausedUntil" BIGINT NOT NULL DEFAULT 0,
    "probeUntil" BIGINT NOT NULL DEFAULT 0,
    "probing" TEXT,
    "probingUntil" BIGINT NOT NULL DEFAULT 0,
    "backoffCount" INTEGER NOT NULL DEFAULT 0,
    "backoffUntil" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "flow_pauses_pkey" PRIMARY KEY ("webhookId")
);
