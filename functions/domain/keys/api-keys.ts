// API keys made through the API: `tk_` and 32 random bytes, shown once, kept only as a SHA-256 digest. A
// key is refused once revoked or past its expiry; revoking keeps the row, so the audit trail and the keys
// page still name it.
import { createHash, randomBytes } from "node:crypto";
import sql from "sql-template-tag";
import type { ApiKey } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";
import { notFound } from "../errors.ts";
import { toPage, type ListQuery } from "../validation.ts";
import type { CreateKeyInput } from "./key-input.ts";

export const KEY_PREFIX = "tk_";

/** The digest a key is found by: 32 random bytes cannot be guessed from it, so no slow hash is needed. */
export const keyDigest = (key: string) => createHash("sha256").update(key).digest("hex");

export const looksLikeKey = (token: string) => token.startsWith(KEY_PREFIX);

/** A key as answered: never its digest. */
export type KeyView = Omit<ApiKey, "digest">;

const COLUMNS = sql`id, name, scopes, collections, prefix, "createdAt", "expiresAt", "revokedAt", "lastUsedAt"`;

export async function createKey(q: Queryable, input: CreateKeyInput): Promise<{ key: string; row: KeyView }> {
  const key = `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  const [row] = await runSql<KeyView>(
    q,
    sql`INSERT INTO api_keys (id, name, scopes, collections, digest, prefix, "expiresAt")
      VALUES (${newId("key")}, ${input.name}, ${[...new Set(input.scopes)]}::text[], ${input.collections ?? []}::text[],
        ${keyDigest(key)}, ${key.slice(KEY_PREFIX.length, KEY_PREFIX.length + 6)}, ${input.expiresAt ?? null})
      RETURNING ${COLUMNS}`,
  );
  return { key, row: row! };
}

export async function getKey(q: Queryable, id: string): Promise<KeyView> {
  const [row] = await runSql<KeyView>(q, sql`SELECT ${COLUMNS} FROM api_keys WHERE id = ${id}`);
  if (!row) throw notFound("key", id);
  return row;
}

/** Newest first, revoked ones too (they say when). */
export async function listKeys(q: Queryable, { limit, cursor }: ListQuery) {
  const rows = await runSql<KeyView>(
    q,
    sql`SELECT ${COLUMNS} FROM api_keys WHERE (${cursor ?? null}::text IS NULL OR id < ${cursor ?? null})
      ORDER BY id DESC LIMIT ${limit + 1}`,
  );
  return toPage(rows, limit, (row) => row);
}

/**
 * Revokes a key at `now`; answers the key before and after, or undefined after when it was revoked already
 * (nothing changed). Every process stops taking it within LIMITS.keyCacheMs.
 */
export async function revokeKey(q: Queryable, id: string, now: Date): Promise<{ before: KeyView; after?: KeyView }> {
  const before = await getKey(q, id);
  if (before.revokedAt) return { before };
  const [after] = await runSql<KeyView>(
    q,
    sql`UPDATE api_keys SET "revokedAt" = ${now} WHERE id = ${id} AND "revokedAt" IS NULL RETURNING ${COLUMNS}`,
  );
  // The dashboard's sessions of the key end with it.
  await runSql(q, sql`DELETE FROM dashboard_sessions WHERE "keyId" = ${id}`);
  return { before, after };
}
