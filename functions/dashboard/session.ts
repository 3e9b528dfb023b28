// Signing in to the dashboard: the API key, typed once into a form, is exchanged for a session cookie
// (HttpOnly, SameSite=Strict, Secure over https, 12 hours), so no key or secret ever sits in a URL or in
// the page's storage. The cookie and the CSRF token of every form are HMACs under a key derived from
// API_KEY: changing the key signs everyone out. Without API_KEY the dashboard is open (and says so).
// A session also lives in Postgres (domain/sign-in/session-store.ts) until sign-out or its expiry, so a
// copied cookie stops working at sign-out on every instance. A cookie whose HMAC is wrong is refused
// before any read. Wrong keys are throttled per client address and overall (domain/sign-in/throttle.ts).
import { createHmac, randomBytes } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { closeSession, isSessionOpen, openSession } from "../domain/sign-in/session-store.ts";
import { giveBackSignInTry, takeSignInTry } from "../domain/sign-in/throttle.ts";
import type { Queryable } from "../platform/sql.ts";
import { BOOTSTRAP_KEY, NO_KEY } from "../domain/keys/scopes.ts";
import { digest, sameSecret } from "../http/auth.ts";
import { clientAddress } from "../http/client-address.ts";

export const SESSION_COOKIE = "tetik_session";
const SESSION_MS = 12 * 3600_000;

export interface SessionKeys {
  /** Undefined when the server has no API key: nothing to sign in with, the dashboard is open. */
  apiKey?: string;
  /** Running under serverless offline (see `setSession`). */
  offline?: boolean;
}

/** Where sessions and sign-in tries are kept, and the clock their expiries are read against. */
export interface SessionStore {
  q: Queryable;
  now: () => Date;
}

export type SignIn =
  | { ok: true }
  | { ok: false; reason: "wrong_key" }
  /** Too many wrong keys in this window, from this address or from all: the key was not compared. */
  | { ok: false; reason: "throttled"; by: "address" | "all"; retryAfterSeconds: number };

const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest("base64url");

export function sessions({ apiKey, offline = false }: SessionKeys, { q, now }: SessionStore) {
  const key = apiKey === undefined ? undefined : digest(`tetik dashboard session\0${apiKey}`);
  // API Gateway says how the browser came in; behind it the function's own URL is always https.
  const secure = (c: Context) =>
    (c.req.header("x-forwarded-proto") ?? new URL(c.req.url).protocol.slice(0, -1)) === "https";

  /**
   * serverless offline (v13, HttpServer.js) hands a function's cookies to hapi's `h.state` with their
   * attributes as part of the value, which hapi refuses (a 500 for every sign-in), and it sets no attribute
   * of its own (its `enforceSecureCookies` adds HttpOnly and Secure, never SameSite). A `set-cookie` header,
   * in `headers` or `multiValueHeaders` instead of `cookies`, goes the same way: offline picks it out by
   * its lower-cased name. There, on a developer's machine only, the bare value is sent: a session cookie
   * without HttpOnly or SameSite. In AWS and on Node (npm run serve, the container) the cookie carries its
   * attributes as written.
   */
  function setSession(c: Context, value: string, maxAge: number) {
    if (offline) return c.header("set-cookie", `${SESSION_COOKIE}=${value}`, { append: true });
    setCookie(c, SESSION_COOKIE, value, {
      httpOnly: true,
      sameSite: "Strict",
      secure: secure(c),
      path: "/dashboard",
      maxAge,
    });
  }

  /** The session's nonce, when this server signed the cookie and its expiry has not passed: no read yet. */
  function signedNonce(cookie: string | undefined): string | undefined {
    if (!key || !cookie) return undefined;
    const [expires, nonce, mac] = cookie.split(".");
    if (!expires || !nonce || !mac || !sameSecret(mac, hmac(key, `${expires}.${nonce}`))) return undefined;
    return Number(expires) > now().getTime() ? nonce : undefined;
  }

  async function valid(cookie: string | undefined): Promise<boolean> {
    const nonce = signedNonce(cookie);
    return nonce !== undefined && (await isSessionOpen(q, nonce, now()));
  }

  return {
    open: key === undefined,
    /**
     * Compares `given` with the API key, unless this address (or everyone) has tried too many wrong keys
     * lately; on the right key, starts a session. A right key does not count against the throttle.
     */
    async signIn(c: Context, given: unknown): Promise<SignIn> {
      const address = clientAddress(c);
      const attempt = await takeSignInTry(q, address, now());
      if (!attempt.allowed)
        return {
          ok: false,
          reason: "throttled",
          by: attempt.by,
          retryAfterSeconds: Math.max(1, Math.ceil(attempt.retryAfterMs / 1000)),
        };
      if (apiKey === undefined || typeof given !== "string" || !sameSecret(given, apiKey))
        return { ok: false, reason: "wrong_key" };
      await giveBackSignInTry(q, address, attempt.windowStart);
      await this.start(c);
      return { ok: true };
    },
    async start(c: Context) {
      const expires = now().getTime() + SESSION_MS;
      const nonce = randomBytes(16).toString("base64url");
      await openSession(q, nonce, new Date(expires));
      const value = `${expires}.${nonce}`;
      setSession(c, `${value}.${hmac(key!, value)}`, SESSION_MS / 1000);
    },
    /** Ends the session on the server (its cookie is refused everywhere from now on) and in this browser. */
    async end(c: Context) {
      const nonce = signedNonce(getCookie(c, SESSION_COOKIE));
      if (nonce) await closeSession(q, nonce);
      setSession(c, "", 0);
    },
    /** The CSRF token of the session: forms carry it, and an action without it (or another's) is refused. */
    csrfToken(c: Context): string {
      if (!key) return "open";
      return hmac(key, `csrf\0${getCookie(c, SESSION_COOKIE) ?? ""}`);
    },
    /** Pages need a session (or an open dashboard); anything else goes to the sign-in page. */
    required(): MiddlewareHandler {
      return async (c, next) => {
        if (!key || (await valid(getCookie(c, SESSION_COOKIE)))) {
          // Who acts through this session: today only API_KEY signs in.
          c.set("principal", key ? BOOTSTRAP_KEY : NO_KEY);
          return next();
        }
        if (c.req.method === "GET") return c.redirect("/dashboard/sign-in", 303);
        return c.text("sign in first", 401);
      };
    },
    /**
     * Actions (POST) must carry the session's CSRF token and, when the browser says where from, come from
     * this site.
     */
    checkCsrf(c: Context, token: unknown): boolean {
      const origin = c.req.header("origin");
      if (
        origin &&
        origin !== new URL(c.req.url).origin &&
        origin !== `${c.req.header("x-forwarded-proto") ?? "http"}://${c.req.header("host")}`
      )
        return false;
      return typeof token === "string" && sameSecret(token, this.csrfToken(c));
    },
  };
}

export type Sessions = ReturnType<typeof sessions>;
