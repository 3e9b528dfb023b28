// The dashboard's keys page (admin only, as GET/POST/DELETE /keys): list, make (the new key is on the answer
// page once, never stored or shown again), revoke. The same use cases as the API's access function.
import type { Context, Hono } from "hono";
import type { Child } from "hono/jsx";
import { keyView } from "../api/views.ts";
import { createKey, listKeys, revokeKey } from "../domain/keys/api-keys.ts";
import { createKeyInput } from "../domain/keys/key-input.ts";
import { SCOPES } from "../domain/keys/scopes.ts";
import { AppError } from "../domain/errors.ts";
import { listQuery } from "../domain/validation.ts";
import { actorOf } from "../http/actor.ts";
import type { AppEnv } from "../http/create-app.ts";
import type { Queryable } from "../platform/sql.ts";
import { KeysPage, type KeyFormValues } from "./pages/keys.tsx";
import type { Frame } from "./pages/layout.tsx";
import { requireAllowed } from "./permissions.ts";

/** What the keys routes borrow from the dashboard: its deps, page frame and checked forms. */
export interface KeysKit {
  /** Making and revoking a key writes its audit entry with them. */
  deps: Parameters<typeof createKey>[0];
  q: Queryable;
  render: (
    c: Context,
    section: Frame["section"],
    title: string,
    body: Child,
    status?: number,
  ) => Response | Promise<Response>;
  /** A form's fields once its CSRF token is checked. */
  form: (c: Context) => Promise<Record<string, string>>;
  csrf: (c: Context) => string;
}

/** A `datetime-local` field's value (no zone) is read as UTC; anything else must be ISO 8601 with its offset. */
const asIso = (text: string) =>
  /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(text) ? `${text}${text.length === 16 ? ":00" : ""}Z` : text;

export function keysRoutes(dash: Hono<AppEnv>, { deps, q, render, form, csrf }: KeysKit) {
  const page = async (
    c: Context,
    extra: { created?: { name: string; key: string }; error?: string; values?: KeyFormValues } = {},
    status = 200,
  ) => {
    const parsed = listQuery.safeParse({
      limit: "50",
      ...(c.req.query("cursor") ? { cursor: c.req.query("cursor") } : {}),
    });
    if (!parsed.success) throw new AppError("invalid_request", "that is not a page of this list");
    const list = await listKeys(q, parsed.data);
    return render(
      c,
      "keys",
      "Keys",
      <KeysPage
        keys={list.data.map(keyView)}
        nextCursor={list.nextCursor}
        csrf={csrf(c)}
        notice={c.req.query("done") === "revoked" ? "Revoked: it is refused everywhere within 10 seconds" : undefined}
        {...extra}
      />,
      status,
    );
  };

  dash.get("/keys", requireAllowed("keys"), (c) => page(c));

  // Answers with the page itself: the new key is shown on it once and kept nowhere.
  dash.post("/keys", requireAllowed("createKey"), async (c) => {
    const fields = await form(c);
    const values: KeyFormValues = {
      name: fields.name ?? "",
      scopes: SCOPES.filter((scope) => fields[`scope-${scope}`] === "on"),
      collections: fields.collections ?? "",
      expiresAt: fields.expiresAt ?? "",
    };
    const collections = values
      .collections!.split(",")
      .map((name) => name.trim())
      .filter(Boolean);
    const parsed = createKeyInput.safeParse({
      name: values.name!.trim(),
      scopes: values.scopes,
      ...(collections.length ? { collections } : {}),
      ...(values.expiresAt ? { expiresAt: asIso(values.expiresAt) } : {}),
    });
    if (!parsed.success) {
      const error = parsed.error.issues.map((i) => `${i.path.join(".") || "key"}: ${i.message}`).join("; ");
      return page(c, { error, values }, 400);
    }
    const { key, row } = await createKey(deps, parsed.data, actorOf(c));
    return page(c, { created: { name: row.name, key } });
  });

  dash.post("/keys/:id/revoke", requireAllowed("revokeKey"), async (c) => {
    await form(c);
    await revokeKey(deps, c.req.param("id"), actorOf(c));
    return c.redirect("/dashboard/keys?done=revoked", 303);
  });
}
