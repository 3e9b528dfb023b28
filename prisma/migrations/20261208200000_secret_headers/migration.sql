-- Secret header values of a webhook: header name (lower case) to its value, sealed with SECRETS_KEY like
-- the signing secret (each bound to its webhook and name), or as it is without a key. Sent on deliveries,
-- never shown. A constant default: added without rewriting the table.
ALTER TABLE "webhooks" ADD COLUMN "secretHeaders" JSONB NOT NULL DEFAULT '{}';
