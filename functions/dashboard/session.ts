// Signing in to the dashboard: the API key, typed once into a form, is exchanged for a session cookie
// (HttpOnly, SameSite=Strict, Secure over https, 12 hours), so no key or secret ever sits in a URL or in
// the page's storage. The cookie and the CSRF token of every form are HMACs under a key derived from
// API_KEY: changing the key signs everyone out. Without API_KEY the dashboard is open (and says so).
import { createHmac, randomBytes } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { digest, sameSecret } from "../http/auth.ts";

export const SESSION_COOKIE = "tetik_session";
const SESSION_MS = 12 * 3600_000;

export interface SessionKeys {
  /** Undefined when the server has no API key: nothing to sign in with, the dashboard is open. */
  apiKey?: string;
  /** Running under serverless offline (see `setSession`). */
  offline?: boolean;
}

const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest("base64url");

export function sessions({ apiKey, offline = false }: SessionKeys, now: () => number = Date.now) {
  const key = apiKey === undefined ? undefined : digest(`tetik dashboard session\0${apiKey}`);
  // API Gateway says how the browser came in; behind it the function's own URL is always https.
  const secure = (c: Context) =>
    (c.req.header("x-forwarded-proto") ?? new URL(c.req.url).protocol.slice(0, -1)) === "https";

  /**
   * serverless offline hands a function's cookies to hapi with their attributes as part of the value,
   * which hapi refuses (a 500 for every sign-in), and it sets no attribute of its own. There, on a
   * developer's machine only, the bare value is sent: a session cookie without HttpOnly or SameSite. In
   * AWS and on Node (npm run serve, the container) the cookie carries its attributes as written.
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

  function valid(cookie: string | undefined): boolean {
    if (!key || !cookie) return false;
    const [expires, nonce, mac] = cookie.split(".");
    if (!expires || !nonce || !mac || !sameSecret(mac, hmac(key, `${expires}.${nonce}`))) return false;
    return Number(expires) > now();
  }

  return {
    open: key === undefined,
    /** Whether `given` is the API key. */
    checkKey: (given: string) => apiKey !== undefined && sameSecret(given, apiKey),
    start(c: Context) {
      const value = `${now() + SESSION_MS}.${randomBytes(16).toString("base64url")}`;
      setSession(c, `${value}.${hmac(key!, value)}`, SESSION_MS / 1000);
    },
    end(c: Context) {
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
        if (!key || valid(getCookie(c, SESSION_COOKIE))) return next();
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
