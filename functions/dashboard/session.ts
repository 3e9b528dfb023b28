// Signing in to the dashboard: an API key (API_KEY, or a `tk_` key made through POST /keys or the keys
// page), typed once into a form, is exchanged for a session cookie (HttpOnly, SameSite=Strict, Secure over
// https, 12 hours), so no key or secret ever sits in a URL or in the page's storage. The cookie and the
// CSRF token of every form are HMACs under a key derived from API_KEY: changing it signs everyone out.
// Without API_KEY the dashboard is open (and says so).
// A session also lives in Postgres (domain/sign-in/session-store.ts) until sign-out or its expiry, so a
// copied cookie stops working at sign-out on every instance. A cookie whose HMAC is wrong is refused
// before any read. Wrong keys are throttled per client address and overall (domain/sign-in/throttle.ts).
// The session's row names the key it was signed in with, and every request finds that key again through
// the API's cached lookup (domain/keys/key-lookup.ts): its scopes are the request's, and a revoked or
// expired key's sessions stop within LIMITS.keyCacheMs (revoking also deletes them).
import { createHmac, randomBytes } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { closeSession, openSession, openSessionKey } from "../domain/sign-in/session-store.ts";
import { giveBackSignInTry, takeSignInTry } from "../domain/sign-in/throttle.ts";
import type { Queryable } from "../platform/sql.ts";
import type { KeyLookup } from "../domain/keys/key-lookup.ts";
import { BOOTSTRAP_KEY, NO_KEY, type Principal } from "../domain/keys/scopes.ts";
import { digest, keyResolver, sameSecret } from "../http/auth.ts";
import { clientAddress } from "../http/client-address.ts";

export const SESSION_COOKIE = "tetik_session";
const SESSION_MS = 12 * 3600_000;

export interface SessionKeys {
  /** Undefined when the server has no API key: nothing to sign in with, the dashboard is open. */
  apiKey?: string;
  /** Running under serverless offline (see `setSession`). */
  offline?: boolean;
}

/** Where sessions and sign-in tries are kept, the clock their expiries are read against, and the keys. */
export interface SessionStore {
  q: Queryable;
  now: () => Date;
  keys: KeyLookup;
}

export type SignIn =
  | { ok: true }
  | { ok: false; reason: "wrong_key" }
  /** Too many wrong keys in this window, from this address or from all: the key was not compared. */
  | { ok: false; reason: "throttled"; by: "address" | "all"; retryAfterSeconds: number };

const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest("base64url");

export function sessions({ apiKey, offline = false }: SessionKeys, { q, now, keys }: SessionStore) {
  const key = apiKey === undefined ? undefined : digest(`tetik dashboard session\0${apiKey}`);
  // The API's own rule for a key: API_KEY, else a `tk_` key that is neither revoked nor expired.
  const resolveKey = keyResolver({ apiKey, keys });
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

  /** Who acts through the session of this cookie: undefined when it is not open or its key no longer works. */
  async function principalOf(cookie: string | undefined): Promise<Principal | undefined> {
    const nonce = signedNonce(cookie);
    const session = nonce === undefined ? undefined : await openSessionKey(q, nonce, now());
    if (!session) return undefined;
    return session.keyId === null ? BOOTSTRAP_KEY : keys.findById(session.keyId);
  }

  return {
    open: key === undefined,
    /**
     * Looks `given` up as the API would (API_KEY, or a key made through POST /keys), unless this address
     * (or everyone) has tried too many wrong keys lately; on a working key, starts a session for it. A
     * working key does not count against the throttle.
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
      const principal =
        apiKey !== undefined && typeof given === "string" && given !== "" ? await resolveKey(given) : undefined;
      if (!principal) return { ok: false, reason: "wrong_key" };
      await giveBackSignInTry(q, address, attempt.windowStart);
      await this.start(c, principal.keyId);
      return { ok: true };
    },
    /** Starts a session for the key `keyId` (null: API_KEY). */
    async start(c: Context, keyId: string | null) {
      const expires = now().getTime() + SESSION_MS;
      const nonce = randomBytes(16).toString("base64url");
      await openSession(q, nonce, new Date(expires), { keyId });
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
    /**
     * Pages need a session whose key still works (or an open dashboard); anything else goes to the
     * sign-in page. The request acts as the session's key, with its scopes.
     */
    required(): MiddlewareHandler {
      return async (c, next) => {
        const principal = key ? await principalOf(getCookie(c, SESSION_COOKIE)) : NO_KEY;
        if (principal) {
          c.set("principal", principal);
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
