-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "EventType" AS ENUM ('collection.created', 'collection.updated', 'collection.deleted', 'field.updated');

-- CreateEnum
CREATE TYPE "EventStatus" AS ENUM ('pending', 'processing', 'completed', 'retrying', 'failed');

-- CreateEnum
CREATE TYPE "ActionKind" AS ENUM ('webhook', 'trigger');

-- CreateEnum
CREATE TYPE "TriggerAction" AS ENUM ('create', 'update', 'delete');

-- CreateEnum
CREATE TYPE "BackoffKind" AS ENUM ('exponential', 'fixed');

-- CreateTable
CREATE TABLE "event_definitions" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "type" "EventType" NOT NULL,
    "collection" TEXT NOT NULL,
    "fields" TEXT[],
    "condition" JSONB,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "event_definitions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event_triggers" (
    "id" TEXT NOT NULL,
    "definitionId" TEXT NOT NULL,
    "action" "TriggerAction" NOT NULL,
    "targetCollection" TEXT NOT NULL,
    "filter" JSONB,
    "data" JSONB,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "event_triggers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhooks" (
    "id" TEXT NOT NULL,
    "definitionId" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "method" TEXT NOT NULL DEFAULT 'POST',
    "headers" JSONB NOT NULL DEFAULT '{}',
    "payload" JSONB,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "timeoutMs" INTEGER,
    "retryMaxAttempts" INTEGER NOT NULL DEFAULT 5,
    "retryBackoff" "BackoffKind" NOT NULL DEFAULT 'exponential',
    "retryDelayMs" INTEGER NOT NULL DEFAULT 1000,
    "secret" TEXT NOT NULL,
    "previousSecret" TEXT,
    "previousSecretExpiresAt" TIMESTAMPTZ(3),
    "consecutiveFailures" INTEGER NOT NULL DEFAULT 0,
    "lastSuccessAt" TIMESTAMPTZ(3),
    "lastFailureAt" TIMESTAMPTZ(3),
    "lastError" TEXT,
    "disabledReason" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "webhooks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event_log" (
    "id" TEXT NOT NULL,
    "type" "EventType" NOT NULL,
    "collection" TEXT NOT NULL,
    "recordId" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "previous" JSONB,
    "changedFields" TEXT[],
    "status" "EventStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "causationId" TEXT,
    "depth" INTEGER NOT NULL DEFAULT 0,
    "idempotencyKey" TEXT,
    "occurredAt" TIMESTAMPTZ(3) NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "completedAt" TIMESTAMPTZ(3),
    "durationMs" INTEGER,
    "matchedAt" TIMESTAMPTZ(3),
    "leaseExpiresAt" TIMESTAMPTZ(3),

    CONSTRAINT "event_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event_actions" (
    "id" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "kind" "ActionKind" NOT NULL,
    "targetId" TEXT NOT NULL,
    "definitionId" TEXT NOT NULL,
    "status" "EventStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "errorCode" TEXT,
    "result" JSONB,
    "durationMs" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "completedAt" TIMESTAMPTZ(3),

    CONSTRAINT "event_actions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "delivery_attempts" (
    "id" TEXT NOT NULL,
    "webhookId" TEXT NOT NULL,
    "eventId" TEXT,
    "actionId" TEXT,
    "attempt" INTEGER NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "status" INTEGER,
    "durationMs" INTEGER NOT NULL,
    "error" TEXT,
    "errorCode" TEXT,
    "responseBody" TEXT,
    "test" BOOLEAN NOT NULL DEFAULT false,
    "requestedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "delivery_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "event_definitions_name_key" ON "event_definitions"("name");

-- CreateIndex
CREATE INDEX "event_definitions_collection_active_idx" ON "event_definitions"("collection", "active");

-- CreateIndex
CREATE INDEX "event_triggers_definitionId_idx" ON "event_triggers"("definitionId");

-- CreateIndex
CREATE INDEX "webhooks_definitionId_idx" ON "webhooks"("definitionId");

-- CreateIndex
CREATE UNIQUE INDEX "event_log_idempotencyKey_key" ON "event_log"("idempotencyKey");

-- CreateIndex
CREATE INDEX "event_log_status_id_idx" ON "event_log"("status", "id");

-- CreateIndex
CREATE INDEX "event_log_collection_recordId_idx" ON "event_log"("collection", "recordId");

-- CreateIndex
CREATE INDEX "event_log_causationId_idx" ON "event_log"("causationId");

-- CreateIndex
CREATE INDEX "event_actions_status_nextAttemptAt_idx" ON "event_actions"("status", "nextAttemptAt");

-- CreateIndex
CREATE UNIQUE INDEX "event_actions_eventId_kind_targetId_key" ON "event_actions"("eventId", "kind", "targetId");

-- CreateIndex
CREATE INDEX "delivery_attempts_webhookId_id_idx" ON "delivery_attempts"("webhookId", "id");

-- CreateIndex
CREATE INDEX "delivery_attempts_actionId_idx" ON "delivery_attempts"("actionId");

-- AddForeignKey
ALTER TABLE "event_triggers" ADD CONSTRAINT "event_triggers_definitionId_fkey" FOREIGN KEY ("definitionId") REFERENCES "event_definitions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_definitionId_fkey" FOREIGN KEY ("definitionId") REFERENCES "event_definitions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event_actions" ADD CONSTRAINT "event_actions_eventId_fkey" FOREIGN KEY ("eventId") REFERENCES "event_log"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_actionId_fkey" FOREIGN KEY ("actionId") REFERENCES "event_actions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

