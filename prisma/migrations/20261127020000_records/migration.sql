-- CreateTable
CREATE TABLE "records" (
    "collection" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "records_pkey" PRIMARY KEY ("collection","id")
);

-- CreateIndex
CREATE INDEX "records_data_idx" ON "records" USING GIN ("data" jsonb_path_ops);


-- AlterTable
ALTER TABLE "webhooks" ADD COLUMN "retryMaxDelayMs" INTEGER;
