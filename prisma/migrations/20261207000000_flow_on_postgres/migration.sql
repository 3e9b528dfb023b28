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

-- One turn, decided and taken in one call (one round trip, atomic under the webhook's lock), as the Redis
-- limiter's Lua script does: the same steps in the same order (functions/platform/flow-limiter.ts).
-- Answers ok (1: a turn, at = now; 0: wait waitMs), the reason of a wait, and a turn's probe flag or the
-- booking a wait made or kept.
CREATE FUNCTION tetik_flow_take(
    p_webhook TEXT, p_per_second INTEGER, p_max_in_flight INTEGER, p_member TEXT, p_lease_ms BIGINT,
    p_in_flight_wait_ms BIGINT, p_token TEXT, p_booking TEXT, p_horizon_ms BIGINT, p_stale_ms BIGINT,
    OUT ok INTEGER, OUT wait_or_at BIGINT, OUT reason TEXT, OUT probe BOOLEAN, OUT booking TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    now_ms BIGINT;
    pause flow_pauses%ROWTYPE;
    started INTEGER;
    booked BIGINT;
    last_booked BIGINT;
    at_ms DOUBLE PRECISION;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('tetik-flow:' || p_webhook, 0));
    now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT;
    probe := false;
    SELECT * INTO pause FROM flow_pauses WHERE "webhookId" = p_webhook;
    IF FOUND AND pause."pausedUntil" > now_ms THEN
        DELETE FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'booking' AND member = p_booking;
        ok := 0; wait_or_at := pause."pausedUntil" - now_ms; reason := 'paused'; RETURN;
    END IF;
    IF FOUND AND pause."probeUntil" > now_ms THEN
        IF pause."probingUntil" > now_ms AND pause.probing IS NOT NULL AND pause.probing <> p_token THEN
            DELETE FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'booking' AND member = p_booking;
            ok := 0; wait_or_at := p_in_flight_wait_ms; reason := 'paused'; RETURN;
        END IF;
        IF NOT (pause."probingUntil" > now_ms AND pause.probing IS NOT NULL) THEN
            UPDATE flow_pauses SET probing = p_token, "probingUntil" = now_ms + p_lease_ms
            WHERE "webhookId" = p_webhook;
        END IF;
        probe := true;
    END IF;
    IF p_max_in_flight > 0 THEN
        DELETE FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'open' AND at <= now_ms;
        IF NOT EXISTS (SELECT 1 FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'open' AND member = p_token)
           AND (SELECT count(*) FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'open') >= p_max_in_flight THEN
            DELETE FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'booking' AND member = p_booking;
            ok := 0; reason := 'in_flight';
            wait_or_at := greatest(1, least((SELECT min(at) FROM flow_entries
                WHERE "webhookId" = p_webhook AND kind = 'open') - now_ms, p_in_flight_wait_ms));
            RETURN;
        END IF;
    END IF;
    IF p_per_second > 0 THEN
        DELETE FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'start' AND at <= now_ms - 1000;
        SELECT count(*) INTO started FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'start';
        SELECT at INTO booked FROM flow_entries
        WHERE "webhookId" = p_webhook AND kind = 'booking' AND member = p_booking;
        IF booked IS NOT NULL THEN
            IF booked > now_ms THEN
                ok := 0; wait_or_at := booked - now_ms; reason := 'rate'; booking := p_booking; RETURN;
            END IF;
            IF started >= p_per_second THEN
                ok := 0; reason := 'rate'; booking := p_booking;
                wait_or_at := greatest(1, (SELECT min(at) FROM flow_entries
                    WHERE "webhookId" = p_webhook AND kind = 'start') + 1000 - now_ms);
                RETURN;
            END IF;
            DELETE FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'booking' AND member = p_booking;
        ELSE
            DELETE FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'booking' AND at <= now_ms - p_stale_ms;
            SELECT max(at) INTO last_booked FROM flow_entries WHERE "webhookId" = p_webhook AND kind = 'booking';
            at_ms := now_ms;
            IF last_booked IS NOT NULL THEN at_ms := greatest(now_ms, last_booked + 1000.0 / p_per_second); END IF;
            IF at_ms > now_ms OR started >= p_per_second THEN
                IF started >= p_per_second THEN
                    at_ms := greatest(at_ms, (SELECT min(at) FROM flow_entries
                        WHERE "webhookId" = p_webhook AND kind = 'start') + 1000);
                END IF;
                IF at_ms - now_ms > p_horizon_ms THEN
                    ok := 0; wait_or_at := p_horizon_ms; reason := 'rate'; RETURN;
                END IF;
                INSERT INTO flow_entries ("webhookId", kind, member, at)
                VALUES (p_webhook, 'booking', p_member, ceil(at_ms)::BIGINT);
                ok := 0; wait_or_at := greatest(1, ceil(at_ms)::BIGINT - now_ms); reason := 'rate';
                booking := p_member;
                RETURN;
            END IF;
        END IF;
        INSERT INTO flow_entries ("webhookId", kind, member, at) VALUES (p_webhook, 'start', p_member, now_ms);
    END IF;
    IF p_max_in_flight > 0 THEN
        INSERT INTO flow_entries ("webhookId", kind, member, at) VALUES (p_webhook, 'open', p_token, now_ms + p_lease_ms)
        ON CONFLICT ("webhookId", kind, member) DO UPDATE SET at = EXCLUDED.at;
    END IF;
    ok := 1; wait_or_at := now_ms;
END $$;
