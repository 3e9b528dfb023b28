-- API keys beside the bootstrap API_KEY (functions/domain/keys): only a SHA-256 digest of each key is
-- kept, never the key. Keys are 32 random bytes, so a digest cannot be reversed by guessing; a slow hash
-- would only slow every request down.
CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "scopes" TEXT[] NOT NULL,
    "collections" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "digest" TEXT NOT NULL,
    -- The key's first characters after "tk_", to tell keys apart in lists.
    "prefix" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),
    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "api_keys_digest_key" ON "api_keys"("digest");

-- The audit trail: one entry per change, written in the change's transaction. tetik's role may add and
-- read entries, and delete those past AUDIT_RETENTION_DAYS (the sweep), but never change one.
CREATE TABLE "audit_entries" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "keyId" TEXT,
    "keyName" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "targetKind" TEXT NOT NULL,
    "targetId" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "requestId" TEXT,
    CONSTRAINT "audit_entries_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "audit_entries_at_idx" ON "audit_entries"("at");
CREATE INDEX "audit_entries_targetId_id_idx" ON "audit_entries"("targetId", "id");
CREATE INDEX "audit_entries_keyId_id_idx" ON "audit_entries"("keyId", "id");
CREATE INDEX "audit_entries_action_id_idx" ON "audit_entries"("action", "id");

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'tetik_app') THEN
    REVOKE UPDATE ON "audit_entries" FROM tetik_app;
  END IF;
END
$$;

-- A dashboard session is its key's: null for API_KEY. A revoked or expired key's sessions end with it.
ALTER TABLE "dashboard_sessions" ADD COLUMN "keyId" TEXT;
