// The dashboard's audit page (admin only, as GET /audit): the same query and filters, each entry's change
// shown field by field.
import type { Hono } from "hono";
import { auditEntryView } from "../api/views.ts";
import { auditQuery, listAuditEntries } from "../domain/audit/audit-log.ts";
import type { AppEnv } from "../http/create-app.ts";
import type { KeysKit } from "./keys-routes.tsx";
import { AuditPage, type AuditFilters } from "./pages/audit.tsx";
import { requireAllowed } from "./permissions.ts";

const FILTERS = ["targetId", "keyId", "action", "since", "until"] as const;

export function auditRoutes(dash: Hono<AppEnv>, { q, render }: Pick<KeysKit, "q" | "render">) {
  dash.get("/audit", requireAllowed("audit"), async (c) => {
    const filters: AuditFilters = {};
    for (const name of FILTERS) {
      const value = c.req.query(name)?.trim();
      if (value) filters[name] = value;
    }
    const cursor = c.req.query("cursor");
    const parsed = auditQuery.safeParse({ ...filters, limit: "50", ...(cursor ? { cursor } : {}) });
    if (!parsed.success) {
      const error = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      return render(
        c,
        "audit",
        "Audit trail",
        <AuditPage entries={[]} nextCursor={null} filters={filters} error={error} />,
        400,
      );
    }
    const page = await listAuditEntries(q, parsed.data);
    return render(
      c,
      "audit",
      "Audit trail",
      <AuditPage entries={page.data.map(auditEntryView)} nextCursor={page.nextCursor} filters={filters} />,
    );
  });
}
