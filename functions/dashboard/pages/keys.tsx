// The keys page (admin): every key with its scopes and dates, a form to make one, whose answer shows the new
// key once (tetik keeps only its digest), and a revoke button per key still in use.
import type { z } from "zod";
import type * as shape from "../../api/contract/shapes.ts";
import { SCOPES } from "../../domain/keys/scopes.ts";
import { Action, Problem, Table, Time } from "./layout.tsx";

type ApiKey = z.output<typeof shape.ApiKey>;

/** What the form was sent with, shown again when it is refused. */
export interface KeyFormValues {
  name?: string;
  scopes?: string[];
  collections?: string;
  expiresAt?: string;
}

const SCOPE_HINTS: Record<(typeof SCOPES)[number], string> = {
  admin: "everything, keys and the audit trail included",
  config: "definitions, triggers, webhooks",
  ingest: "events and record writes",
  read: "every page and GET but keys and audit",
  replay: "replay events",
};

export function KeysPage({
  keys,
  nextCursor,
  csrf,
  created,
  error,
  values = {},
  notice,
}: {
  keys: ApiKey[];
  nextCursor: string | null;
  csrf: string;
  /** The key just made: its only showing. */
  created?: { name: string; key: string };
  error?: string;
  values?: KeyFormValues;
  notice?: string;
}) {
  return (
    <div>
      <h1>Keys</h1>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      {created ? (
        <section class="card wide secret" aria-label="New key">
          <h2>New key "{created.name}"</h2>
          <p>Shown this once: copy it now. tetik keeps only its digest and cannot show it again.</p>
          <pre class="json" id="new-key">
            {created.key}
          </pre>
        </section>
      ) : null}
      <section class="card wide" aria-label="Make a key">
        <h2>Make a key</h2>
        <form method="post" action="/dashboard/keys" class="key-form">
          <input type="hidden" name="csrf" value={csrf} />
          <label for="key-name">Name</label>
          <input id="key-name" name="name" required maxlength={200} value={values.name ?? ""} />
          <fieldset>
            <legend>Scopes</legend>
            {SCOPES.map((scope) => (
              <label class="choice">
                <input
                  type="checkbox"
                  name={`scope-${scope}`}
                  value="on"
                  checked={values.scopes?.includes(scope) ?? false}
                />{" "}
                <strong>{scope}</strong> <span class="muted">{SCOPE_HINTS[scope]}</span>
              </label>
            ))}
          </fieldset>
          <label for="key-collections">Collections (for ingest; comma-separated, empty: any)</label>
          <input id="key-collections" name="collections" value={values.collections ?? ""} />
          <label for="key-expires">Expires (UTC; empty: never)</label>
          <input id="key-expires" name="expiresAt" type="datetime-local" value={values.expiresAt ?? ""} />
          <Problem message={error} />
          <p>
            <button type="submit" class="button primary">
              Make key
            </button>
          </p>
        </form>
      </section>
      <section class="card wide scroll" aria-label="Keys">
        <Table
          class="keys"
          columns={["Name", "Scopes", "Collections", "Prefix", "Created", "Expires", "Last used", "Revoked", ""]}
        >
          {keys.map((k) => (
            <tr>
              <td>{k.name}</td>
              <td>{k.scopes.join(", ")}</td>
              <td>{k.collections.length ? k.collections.join(", ") : <span class="muted">any</span>}</td>
              <td class="mono">{`tk_${k.prefix}…`}</td>
              <td>
                <Time at={k.createdAt} />
              </td>
              <td>{k.expiresAt ? <Time at={k.expiresAt} /> : <span class="muted">never</span>}</td>
              <td>
                <Time at={k.lastUsedAt} />
              </td>
              <td>{k.revokedAt ? <Time at={k.revokedAt} /> : <span class="muted">no</span>}</td>
              <td>
                {k.revokedAt ? null : (
                  <Action action={`/dashboard/keys/${k.id}/revoke`} csrf={csrf} label="Revoke" kind="danger" />
                )}
              </td>
            </tr>
          ))}
        </Table>
        {keys.length === 0 ? <p class="muted">No keys yet besides API_KEY.</p> : null}
        {nextCursor ? (
          <p>
            <a class="button secondary" href={`/dashboard/keys?cursor=${nextCursor}`}>
              More
            </a>
          </p>
        ) : null}
      </section>
    </div>
  );
}
