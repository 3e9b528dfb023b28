-- AlterTable
ALTER TABLE "event_actions" ADD COLUMN "unfinishedRuns" INTEGER NOT NULL DEFAULT 0;
