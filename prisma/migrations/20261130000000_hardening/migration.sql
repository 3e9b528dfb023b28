-- AlterTable
ALTER TABLE "event_actions" ADD COLUMN "unfinishedRuns" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "event_log" ADD COLUMN "idempotencyDigest" TEXT,
ADD COLUMN "payloadBytes" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "records" ADD COLUMN "dataBytes" INTEGER NOT NULL DEFAULT 0;

-- Sizes of what was stored before: one pass over each table, once.
UPDATE "event_log" SET "payloadBytes" = octet_length("data"::text) + coalesce(octet_length("previous"::text), 0);
UPDATE "records" SET "dataBytes" = octet_length("data"::text);

-- CreateTable
CREATE TABLE "sweep_state" (
    "id" INTEGER NOT NULL,
    "lastRunAt" TIMESTAMPTZ(3) NOT NULL,
    "lastResult" JSONB NOT NULL,

    CONSTRAINT "sweep_state_pkey" PRIMARY KEY ("id")
);
