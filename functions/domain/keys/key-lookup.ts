// Finding the principal of a key on every request without a database read each time: answers (and
// refusals) are kept for LIMITS.keyCacheMs, so a revoked key is refused by every process, every Lambda
// instance included, within that time. When a key was last used is written at most once a minute per key
// and process, after the answer, never on the request's path.
import sql from "sql-template-tag";
import { runSql, type Queryable } from "../../platform/sql.ts";
import { LIMITS } from "../limits.ts";
import { keyDigest } from "./api-keys.ts";
import type { Principal, Scope } from "./scopes.ts";

interface Found {
  principal: Principal;
  expiresAt: Date | null;
}

interface Cached {
  found: Found | undefined;
  until: number;
}

export interface KeyLookup {
  /** The principal of a `tk_` key, or undefined when it is unknown, revoked or expired. */
  find(key: string): Promise<Principal | undefined>;
}

const LAST_USED_EVERY_MS = 60_000;

export function createKeyLookup(
  q: Queryable,
  {
    now = () => new Date(),
    onError = (_error: unknown) => {},
  }: { now?: () => Date; onError?: (error: unknown) => void } = {},
): KeyLookup {
  const cache = new Map<string, Cached>();
  const lastUsedWritten = new Map<string, number>();

  async function load(digest: string): Promise<Found | undefined> {
    const [row] = await runSql<{
      id: string;
      name: string;
      scopes: Scope[];
      collections: string[];
      expiresAt: Date | null;
    }>(
      q,
      sql`SELECT id, name, scopes, collections, "expiresAt" FROM api_keys
        WHERE digest = ${digest} AND "revokedAt" IS NULL`,
    );
    if (!row) return undefined;
    return {
      principal: { keyId: row.id, keyName: row.name, scopes: row.scopes, collections: row.collections },
      expiresAt: row.expiresAt,
    };
  }

  function noteUse(keyId: string, at: Date) {
    const last = lastUsedWritten.get(keyId) ?? 0;
    if (at.getTime() - last < LAST_USED_EVERY_MS) return;
    lastUsedWritten.set(keyId, at.getTime());
    // Not awaited: the request does not wait for it, and a lost write only makes lastUsedAt older.
    runSql(
      q,
      sql`UPDATE api_keys SET "lastUsedAt" = ${at}
        WHERE id = ${keyId} AND ("lastUsedAt" IS NULL OR "lastUsedAt" < ${new Date(at.getTime() - LAST_USED_EVERY_MS)})`,
    ).catch(onError);
  }

  return {
    async find(key) {
      const at = now();
      const digest = keyDigest(key);
      let entry = cache.get(digest);
      if (!entry || entry.until <= at.getTime()) {
        // Bounded: past the limit the cache starts over (keys in use come back on their next request).
        if (cache.size >= LIMITS.keyCacheEntries) cache.clear();
        entry = { found: await load(digest), until: at.getTime() + LIMITS.keyCacheMs };
        cache.set(digest, entry);
      }
      const { found } = entry;
      if (!found || (found.expiresAt && found.expiresAt <= at)) return undefined;
      if (found.principal.keyId) noteUse(found.principal.keyId, at);
      return found.principal;
    },
  };
}
