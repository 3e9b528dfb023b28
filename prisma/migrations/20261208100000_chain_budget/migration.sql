-- What each chain of trigger writes has written: one row per original change (the chain's root, an event at
-- depth 0), counting the events its triggers wrote at every depth. A trigger's writes take the row's lock and
-- add to it in their own transaction, so workers writing one chain at once count it together
-- (functions/domain/triggers/chain-budget.ts). No foreign key: the log's row locks stay the log's; the sweep
-- deletes rows untouched for LOG_RETENTION_DAYS.
CREATE TABLE "chain_budgets" (
    "rootId" TEXT NOT NULL,
    "events" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "chain_budgets_pkey" PRIMARY KEY ("rootId")
);
CREATE INDEX "chain_budgets_updatedAt_idx" ON "chain_budgets"("updatedAt");
