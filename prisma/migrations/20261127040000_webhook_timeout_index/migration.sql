-- CreateIndex
CREATE INDEX "webhooks_timeoutMs_idx" ON "webhooks"("timeoutMs");
