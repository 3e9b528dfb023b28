-- Dashboard sign-in kept on the server, shared by every instance of the API (functions/domain/sign-in).
-- A session lives until sign-out deletes its row or its expiry passes; the sweep deletes expired rows.
-- "id" is the session's nonce, the middle part of its HMAC-signed cookie.
CREATE TABLE "dashboard_sessions" (
    "id" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "dashboard_sessions_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "dashboard_sessions_expiresAt_idx" ON "dashboard_sessions"("expiresAt");

-- Sign-in tries counted per window: one row per client address (scope 'address:<address>') and one for
-- all addresses together (scope 'all'), per window of LIMITS.signInWindowMs. The sweep deletes past windows.
CREATE TABLE "sign_in_tries" (
    "scope" TEXT NOT NULL,
    "windowStart" TIMESTAMPTZ(3) NOT NULL,
    "tries" INTEGER NOT NULL,
    CONSTRAINT "sign_in_tries_pkey" PRIMARY KEY ("scope", "windowStart")
);
CREATE INDEX "sign_in_tries_windowStart_idx" ON "sign_in_tries"("windowStart");
