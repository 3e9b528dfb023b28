// API keys made through the API: `tk_` and 32 random bytes, shown once, kept only as a SHA-256 digest. A
// key is refused once revoked or past its expiry; revoking keeps the row, so the audit trail and the keys
// page still name it.
import { createHash, randomBytes } from "node:crypto";
import sql from "sql-template-tag";
import type { CoreDeps } from "../../platform/core-deps.ts";
import type { ApiKey } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";
import { auditedSql, type Actor, type AuditDeps } from "../audit/audited.ts";
import { notFound } from "../errors.ts";
import { toPage, type ListQuery } from "../validation.ts";
import type { CreateKeyInput } from "./key-input.ts";

export const KEY_PREFIX = "tk_";

/** The digest a key is found by: 32 random bytes cannot be guessed from it, so no slow hash is needed. */
export const keyDigest = (key: string) => createHash("sha256").update(key).digest("hex");

export const looksLikeKey = (token: string) => token.startsWith(KEY_PREFIX);

/** A key as answered: never its digest. */
export type KeyView = Omit<ApiKey, "digest">;

/** A key's public view (the API's, the audit trail's): never its text or digest. */
export function publicKey(k: KeyView) {
  return {
    id: k.id,
    name: k.name,
    scopes: k.scopes,
    collections: k.collections,
    prefix: k.prefix,
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  };
}

const COLUMNS = sql`id, name, scopes, collections, prefix, "createdAt", "expiresAt", "revokedAt", "lastUsedAt"`;

type KeyDeps = AuditDeps & Pick<CoreDeps, "pool">;

/** Makes a key; its text is in the answer, and nowhere else (the audit entry shows the key's view). */
export async function createKey(
  deps: KeyDeps,
  input: CreateKeyInput,
  actor: Actor,
): Promise<{ key: string; row: KeyView }> {
  const key = `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  return auditedSql(deps, actor, async (q) => {
    const [row] = await runSql<KeyView>(
      q,
      sql`INSERT INTO api_keys (id, name, scopes, collections, digest, prefix, "expiresAt")
        VALUES (${newId("key")}, ${input.name}, ${[...new Set(input.scopes)]}::text[],
          ${input.collections ?? []}::text[], ${keyDigest(key)}, ${key.slice(KEY_PREFIX.length, KEY_PREFIX.length + 6)},
          ${input.expiresAt ?? null})
        RETURNING ${COLUMNS}`,
    );
    const target = { kind: "key" as const, id: row!.id };
    return {
      result: { key, row: row! },
      entry: { action: "key.create", target, before: null, after: publicKey(row!) },
    };
  });
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
 * (nothing changed, and nothing is audited). Every process stops taking it within LIMITS.keyCacheMs.
 */
export async function revokeKey(
  deps: KeyDeps,
  id: string,
  actor: Actor,
): Promise<{ before: KeyView; after?: KeyView }> {
  return auditedSql<{ before: KeyView; after?: KeyView }>(deps, actor, async (q) => {
    const before = await getKey(q, id);
    if (before.revokedAt) return { result: { before }, entry: null };
    const [after] = await runSql<KeyView>(
      q,
      sql`UPDATE api_keys SET "revokedAt" = ${deps.now()} WHERE id = ${id} AND "revokedAt" IS NULL
        RETURNING ${COLUMNS}`,
    );
    // Revoked by a request that went first, between the read and the update: nothing changed here.
    if (!after) return { result: { before }, entry: null };
    // The dashboard's sessions of the key end with it.
    await runSql(q, sql`DELETE FROM dashboard_sessions WHERE "keyId" = ${id}`);
    const target = { kind: "key" as const, id };
    return {
      result: { before, after },
      entry: { action: "key.revoke", target, before: publicKey(before), after: publicKey(after) },
    };
  });
}
