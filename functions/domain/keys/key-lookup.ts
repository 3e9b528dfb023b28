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
  /**
   * The principal of the key with this id (what a dashboard session keeps), or undefined when it is
   * unknown, revoked or expired: kept as long as `find`'s answers.
   */
  findById(keyId: string): Promise<Principal | undefined>;
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

  async function load(by: { digest: string } | { id: string }): Promise<Found | undefined> {
    const [row] = await runSql<{
      id: string;
      name: string;
      scopes: Scope[];
      collections: string[];
      expiresAt: Date | null;
    }>(
      q,
      sql`SELECT id, name, scopes, collections, "expiresAt" FROM api_keys
        WHERE ${"digest" in by ? sql`digest = ${by.digest}` : sql`id = ${by.id}`} AND "revokedAt" IS NULL`,
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
    const aMinuteAgo = new Date(at.getTime() - LAST_USED_EVERY_MS);
    runSql(
      q,
      sql`UPDATE api_keys SET "lastUsedAt" = ${at}
        WHERE id = ${keyId} AND ("lastUsedAt" IS NULL OR "lastUsedAt" < ${aMinuteAgo})`,
    ).catch(onError);
  }

  /** `name` is the cache's key: a key's digest, or `id:` and a key's id (no digest begins so). */
  async function resolve(name: string, by: { digest: string } | { id: string }): Promise<Principal | undefined> {
    const at = now();
    let entry = cache.get(name);
    if (!entry || entry.until <= at.getTime()) {
      // Bounded: past the limit the cache starts over (keys in use come back on their next request).
      if (cache.size >= LIMITS.keyCacheEntries) cache.clear();
      entry = { found: await load(by), until: at.getTime() + LIMITS.keyCacheMs };
      cache.set(name, entry);
    }
    const { found } = entry;
    if (!found || (found.expiresAt && found.expiresAt <= at)) return undefined;
    if (found.principal.keyId) noteUse(found.principal.keyId, at);
    return found.principal;
  }

  return {
    find(key) {
      const digest = keyDigest(key);
      return resolve(digest, { digest });
    },
    findById(id) {
      return resolve(`id:${id}`, { id });
    },
  };
}
