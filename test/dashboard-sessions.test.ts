// Dashboard sessions end on the server and sign-in is throttled (issue 26): each instance of the API is its
// own app here, as separate Lambdas are, sharing only Postgres. Client addresses come in as API Gateway
// gives them to a Lambda (requestContext.http.sourceIp); the clock is a test clock, so nothing sleeps.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardRoutes } from "../functions/dashboard/routes.tsx";
import { openSession } from "../functions/domain/sign-in/session-store.ts";
import { LIMITS } from "../functions/domain/limits.ts";
import { runSweep } from "../functions/domain/sweep/run-sweep.ts";
import { createApp } from "../functions/http/create-app.ts";
import { fromPg } from "../functions/platform/sql.ts";
import { testClock, type TestClock } from "./helpers/clock.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

const KEY = "dashboard-sessions-key-7c41e0";
let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ worker: false, env: { API_KEY: KEY } });
}, 60_000);
afterAll(() => stack?.stop());

/** One instance of the dashboard function, on this clock. */
function instance(clock: TestClock) {
  const deps = { ...stack.deps, now: clock.now };
  const app = dashboardRoutes(createApp(deps), deps);
  const request = (path: string, init: RequestInit = {}, from = "192.0.2.10") =>
    app.request(path, init, { requestContext: { http: { sourceIp: from } } });
  return {
    deps,
    /** Signs in from `from` with `key`: the answer. */
    signIn: (key: string, from?: string) =>
      request(
        "/dashboard/sign-in",
        { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `key=${key}` },
        from,
      ),
    page: (cookie: string, path = "/dashboard") => request(path, { headers: { cookie } }),
    signOut: (cookie: string, csrf: string) =>
      request("/dashboard/sign-out", {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: `csrf=${encodeURIComponent(csrf)}`,
      }),
  };
}

const cookieOf = (answer: Response) => answer.headers.get("set-cookie")!.split(";")[0]!;
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
const count = async (table: string) =>
  Number((await stack.owner.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n);
const wrongKey = (i: number) => `wrong-key-${i}-0000000000`;

describe("dashboard sessions", () => {
  it("end at sign-out on every instance: a copied cookie is refused afterwards", async () => {
    const clock = testClock();
    const [a, b] = [instance(clock), instance(clock)];
    const signedIn = await a.signIn(KEY);
    expect(signedIn.status).toBe(303);
    const cookie = cookieOf(signedIn);
    const overview = await b.page(cookie);
    expect(overview.status).toBe(200);

    expect((await b.signOut(cookie, csrfOf(await overview.text()))).status).toBe(303);
    for (const app of [a, b]) {
      const refused = await app.page(cookie, "/dashboard/events");
      expect(refused.status).toBe(303);
      expect(refused.headers.get("location")).toBe("/dashboard/sign-in");
    }
    // A tampered cookie is refused as well (before any read).
    const [expires, nonce] = cookie.split("=")[1]!.split(".");
    expect((await a.page(`tetik_session=${expires}.${nonce}.forged`)).status).toBe(303);
  });

  it("expire after 12 hours, and the sweep deletes them", async () => {
    const clock = testClock();
    const app = instance(clock);
    const cookie = cookieOf(await app.signIn(KEY));
    const before = await count("dashboard_sessions");
    expect(before).toBeGreaterThanOrEqual(1);
    clock.advance(12 * 3600_000 - 1000);
    expect((await app.page(cookie)).status).toBe(200);
    clock.advance(2000);
    expect((await app.page(cookie)).status).toBe(303);
    await runSweep(app.deps);
    expect(await count("dashboard_sessions")).toBe(0);
  });

  it(`are at most ${LIMITS.dashboardSessions} at once: past it, the ones closest to expiry end`, async () => {
    // Scaled down: a bound of 3.
    const q = fromPg(stack.deps.pool);
    const start = Date.now() + 3600_000;
    for (let i = 0; i < 5; i++) await openSession(q, `cap-${i}`, new Date(start + i * 1000), { max: 3 });
    const rows = await stack.owner.query(`SELECT id FROM dashboard_sessions WHERE id LIKE 'cap-%' ORDER BY id`);
    expect(rows.rows.map((r) => r.id)).toEqual(["cap-2", "cap-3", "cap-4"]);
    await stack.owner.query(`DELETE FROM dashboard_sessions`);
  });
});

describe("sign-in", () => {
  it("refuses an address after too many wrong keys (429, Retry-After), right key too, for the window", async () => {
    const clock = testClock(new Date(Date.UTC(2026, 11, 3, 12, 0, 0)));
    const app = instance(clock);
    const from = "203.0.113.7";
    for (let i = 0; i < LIMITS.signInTriesPerAddress; i++)
      expect((await app.signIn(wrongKey(i), from)).status).toBe(401);
    const throttled = await app.signIn(wrongKey(99), from);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe(String(LIMITS.signInWindowMs / 1000));
    expect(await throttled.text()).toContain("Too many wrong keys from your address: sign-in is paused for 60 s");
    // The key is not even compared while the address is throttled.
    expect((await app.signIn(KEY, from)).status).toBe(429);
    // Another address is not held back by this one.
    expect((await app.signIn(KEY, "198.51.100.20")).status).toBe(303);

    clock.advance(LIMITS.signInWindowMs);
    expect((await app.signIn(KEY, from)).status).toBe(303);
  });

  it("lets through at most the bound of wrong keys tried at once from one address (an IPv6 /64)", async () => {
    const clock = testClock(new Date(Date.UTC(2026, 11, 3, 13, 0, 0)));
    const apps = [instance(clock), instance(clock), instance(clock)];
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => apps[i % 3]!.signIn(wrongKey(i), `2001:db8:1:2::${(i + 1).toString(16)}`)),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMITS.signInTriesPerAddress);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - LIMITS.signInTriesPerAddress);
  });

  it("counts only wrong keys: signing in with the right key again and again is never throttled", async () => {
    const clock = testClock(new Date(Date.UTC(2026, 11, 3, 14, 0, 0)));
    const app = instance(clock);
    for (let i = 0; i < LIMITS.signInTriesPerAddress + 2; i++)
      expect((await app.signIn(KEY, "192.0.2.55")).status).toBe(303);
  });

  it("refuses everyone once too many wrong keys came from many addresses; the sweep deletes past counts", async () => {
    const clock = testClock(new Date(Date.UTC(2026, 11, 3, 15, 0, 0)));
    const app = instance(clock);
    const addresses = LIMITS.signInTriesOverall / LIMITS.signInTriesPerAddress;
    for (let a = 0; a < addresses; a++)
      for (let i = 0; i < LIMITS.signInTriesPerAddress; i++)
        expect((await app.signIn(wrongKey(i), `198.18.0.${a + 1}`)).status).toBe(401);
    const throttled = await app.signIn(KEY, "198.18.1.1");
    expect(throttled.status).toBe(429);
    expect(await throttled.text()).toContain("Too many wrong keys from many addresses");

    clock.advance(LIMITS.signInWindowMs);
    expect((await app.signIn(KEY, "198.18.1.1")).status).toBe(303);
    expect(await count("sign_in_tries")).toBeGreaterThan(0);
    clock.advance(LIMITS.signInWindowMs);
    await runSweep(app.deps);
    expect(await count("sign_in_tries")).toBe(0);
  });
});
