// The audit page (admin): the trail of configuration changes, newest first, with GET /audit's filters, and
// each entry's before and after side by side, field by field, changed fields highlighted.
import type { z } from "zod";
import type * as shape from "../../api/contract/shapes.ts";
import { AUDIT_ACTIONS } from "../../domain/audit/audit-entry.ts";
import { fieldChanges } from "../audit-diff.ts";
import { Problem, Table, Time } from "./layout.tsx";

type AuditEntry = z.output<typeof shape.AuditEntry>;

export type AuditFilters = Partial<Record<"targetId" | "keyId" | "action" | "since" | "until", string>>;

/** Where a target is shown in the dashboard, when it has a page. */
const PAGES: Record<string, string> = {
  definition: "/dashboard/definitions/",
  webhook: "/dashboard/webhooks/",
  event: "/dashboard/events/",
};

function Changes({ entry }: { entry: AuditEntry }) {
  const changes = fieldChanges(entry.before, entry.after);
  const changed = changes.filter((c) => c.changed).length;
  return (
    <details>
      <summary>
        {changed} field{changed === 1 ? "" : "s"} changed
      </summary>
      <table class="diff">
        <thead>
          <tr>
            <th>Field</th>
            <th>Before</th>
            <th>After</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c) => (
            <tr class={c.changed ? "changed" : "same"}>
              <td class="mono nowrap">{c.field || "(value)"}</td>
              <td class="mono">{c.before ?? <span class="muted">-</span>}</td>
              <td class="mono">{c.after ?? <span class="muted">-</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function AuditPage({
  entries,
  nextCursor,
  filters,
  error,
}: {
  entries: AuditEntry[];
  nextCursor: string | null;
  filters: AuditFilters;
  error?: string;
}) {
  const more = new URLSearchParams({ ...filters, ...(nextCursor ? { cursor: nextCursor } : {}) }).toString();
  return (
    <div>
      <h1>Audit trail</h1>
      <form method="get" action="/dashboard/audit" class="filters" aria-label="Filter the audit trail">
        <label>
          Target id
          <input name="targetId" value={filters.targetId ?? ""} />
        </label>
        <label>
          Key id
          <input name="keyId" value={filters.keyId ?? ""} />
        </label>
        <label>
          Action
          <select name="action">
            <option value="">any</option>
            {AUDIT_ACTIONS.map((action) => (
              <option value={action} selected={filters.action === action}>
                {action}
              </option>
            ))}
          </select>
        </label>
        <label>
          Since (ISO 8601)
          <input name="since" value={filters.since ?? ""} placeholder="2026-12-01T00:00:00Z" />
        </label>
        <label>
          Until
          <input name="until" value={filters.until ?? ""} />
        </label>
        <button type="submit" class="button primary">
          Filter
        </button>
      </form>
      <Problem message={error} />
      <div class="scroll">
        <Table class="audit" columns={["When", "Key", "Action", "Target", "Changes"]}>
          {entries.map((e) => (
            <tr>
              <td>
                <Time at={e.at} />
              </td>
              <td>
                {e.keyName}
                {e.keyId ? <div class="mono muted">{e.keyId}</div> : null}
              </td>
              <td class="mono nowrap">{e.action}</td>
              <td>
                {e.target.kind}{" "}
                {PAGES[e.target.kind] ? (
                  <a class="mono" href={`${PAGES[e.target.kind]}${e.target.id}`}>
                    {e.target.id}
                  </a>
                ) : (
                  <span class="mono">{e.target.id}</span>
                )}
              </td>
              <td>
                <Changes entry={e} />
              </td>
            </tr>
          ))}
        </Table>
      </div>
      {entries.length === 0 && !error ? <p class="muted">No changes recorded that match.</p> : null}
      {nextCursor ? (
        <p>
          <a class="button secondary" href={`/dashboard/audit?${more}`}>
            More
          </a>
        </p>
      ) : null}
    </div>
  );
}
