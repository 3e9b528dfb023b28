// One entry of the audit trail: who (the key, and the request) changed what (the action and its target),
// and the target's public view before and after. Entries are only ever inserted (by audited.ts, in the
// change's transaction), read (audit-log.ts) and deleted past AUDIT_RETENTION_DAYS (the sweep); tetik's
// database role has no UPDATE on them.
import sql from "sql-template-tag";
import { newId } from "../../platform/ids.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";
/**
 * Who makes a change: the principal of the request (keys/scopes.ts: its key, by id and name; null id for
 * API_KEY) and the request's id, to find it in the logs.
 */
export interface Actor {
  principal: { keyId: string | null; keyName: string };
  requestId: string | null;
}

export const AUDIT_ACTIONS = [
  "definition.create",
  "definition.update",
  "definition.delete",
  "trigger.create",
  "trigger.update",
  "trigger.delete",
  "webhook.create",
  "webhook.update",
  "webhook.delete",
  "webhook.enable",
  "webhook.disable",
  "webhook.rotate_secret",
  "event.replay",
  "key.create",
  "key.revoke",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** `events`/`replay`: a replay of the events a filter selects (POST /events/replay). */
export const TARGET_KINDS = ["definition", "trigger", "webhook", "event", "events", "key"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface AuditTarget {
  kind: TargetKind;
  id: string;
}

/** What a change reports for its entry; before is null for a create, after null for a delete. */
export interface AuditRecord {
  action: AuditAction;
  target: AuditTarget;
  before: unknown;
  after: unknown;
}

/** An entry as stored. */
export interface AuditEntryRow {
  id: string;
  at: Date;
  keyId: string | null;
  keyName: string;
  action: string;
  targetKind: string;
  targetId: string;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

// Fields that hold a secret in some row or answer: never recorded, whatever view a caller hands in.
const SECRET_FIELDS = new Set(["secret", "previousSecret", "digest", "key"]);

/**
 * A view with its secrets taken out: a webhook's signing secrets, a key's text and digest, and the values
 * of secret headers (their names stay). Views are built without them (public-views.ts); this is the
 * last check before anything is written, so a view that gains such a field cannot leak it here.
 */
export function redact(view: unknown): unknown {
  if (view === null || typeof view !== "object" || Array.isArray(view)) return view ?? null;
  return Object.fromEntries(
    Object.entries(view as Record<string, unknown>)
      .filter(([name]) => !SECRET_FIELDS.has(name))
      .map(([name, value]) =>
        name === "secretHeaders" && value !== null && typeof value === "object" && !Array.isArray(value)
          ? [name, Object.keys(value).sort()]
          : [name, value],
      ),
  );
}

/** Inserts the entry of `record` made by `actor` at `at`, redacted, on `q` (the change's transaction). */
export async function insertEntry(q: Queryable, actor: Actor, record: AuditRecord, at: Date): Promise<AuditEntryRow> {
  const json = (value: unknown) => (value == null ? null : JSON.stringify(redact(value)));
  const [row] = await runSql<AuditEntryRow>(
    q,
    sql`INSERT INTO audit_entries (id, at, "keyId", "keyName", action, "targetKind", "targetId", before, after,
        "requestId")
      VALUES (${newId("aud")}, ${at.toISOString()}::timestamptz, ${actor.principal.keyId}, ${actor.principal.keyName},
        ${record.action}, ${record.target.kind}, ${record.target.id}, ${json(record.before)}::jsonb,
        ${json(record.after)}::jsonb, ${actor.requestId})
      RETURNING id, at, "keyId", "keyName", action, "targetKind", "targetId", before, after, "requestId"`,
  );
  return row!;
}
