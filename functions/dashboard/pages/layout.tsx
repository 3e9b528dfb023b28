// The frame of every dashboard page, and the small pieces pages share (status badges, times, JSON, tables,
// problems with what was sent).
import type { Child } from "hono/jsx";
import type { Allowed } from "../permissions.ts";

export interface Frame {
  title: string;
  /** Which item of the navigation is this page's. */
  section: "overview" | "events" | "definitions" | "webhooks" | "keys" | "audit" | "none";
  /** The dashboard is open (no API_KEY): every page says so. */
  open: boolean;
  /** The session's CSRF token, for the forms on the page (sign-out included). */
  csrf: string;
  signedIn: boolean;
  /** What the session's key may see: the navigation offers only those pages. */
  may: Allowed;
}

const NAV = [
  ["overview", "/dashboard", "Overview"],
  ["events", "/dashboard/events", "Events"],
  ["definitions", "/dashboard/definitions", "Definitions"],
  ["webhooks", "/dashboard/webhooks", "Webhooks"],
  ["keys", "/dashboard/keys", "Keys"],
  ["audit", "/dashboard/audit", "Audit"],
] as const;

export function Layout({ frame, children }: { frame: Frame; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${frame.title} · tetik`}</title>
        <link rel="stylesheet" href="/dashboard/assets/app.css" />
        <script src="/dashboard/assets/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/dashboard">
            tetik
          </a>
          {frame.signedIn || frame.open ? (
            <nav aria-label="Main">
              {NAV.filter(([id]) => frame.may[id]).map(([id, href, label]) => (
                <a href={href} aria-current={frame.section === id ? "page" : undefined}>
                  {label}
                </a>
              ))}
            </nav>
          ) : null}
          {frame.signedIn && !frame.open ? (
            <form method="post" action="/dashboard/sign-out" class="sign-out">
              <input type="hidden" name="csrf" value={frame.csrf} />
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          ) : null}
        </header>
        {frame.open ? (
          <p class="banner" role="alert">
            API_KEY is not set: this dashboard and the API are open to anyone who can reach them. Set API_KEY anywhere
            but your own machine.
          </p>
        ) : null}
        <main id="main">{children}</main>
      </body>
    </html>
  );
}

export const Status = ({ status }: { status: string }) => <span class={`status status-${status}`}>{status}</span>;

export const Time = ({ at }: { at: string | Date | null | undefined }) => {
  if (!at) return <span class="muted">-</span>;
  const iso = typeof at === "string" ? at : at.toISOString();
  return <time datetime={iso}>{iso.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>;
};

export const Json = ({ value }: { value: unknown }) => <pre class="json">{JSON.stringify(value, null, 2)}</pre>;

export const Ms = ({ ms }: { ms: number | null | undefined }) =>
  ms === null || ms === undefined ? <span class="muted">-</span> : <span>{`${Math.round(ms)} ms`}</span>;

/** A POST form with the session's CSRF token. */
export function Action({
  action,
  csrf,
  label,
  fields = {},
  kind = "primary",
}: {
  action: string;
  csrf: string;
  label: string;
  fields?: Record<string, string>;
  kind?: "primary" | "secondary" | "danger";
}) {
  return (
    <form method="post" action={action} class="inline">
      <input type="hidden" name="csrf" value={csrf} />
      {Object.entries(fields).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={`button ${kind}`}>
        {label}
      </button>
    </form>
  );
}

/** A table with a header row: `columns` name its columns, the children are its rows. */
export function Table({ columns, class: className, children }: { columns: string[]; class?: string; children: Child }) {
  return (
    <table class={className}>
      <thead>
        <tr>
          {columns.map((column) => (
            <th>{column}</th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** What was wrong with what the person sent, announced to screen readers; nothing when nothing was. */
export function Problem({ message }: { message?: string | null }) {
  return message ? (
    <p class="warn" role="alert">
      {message}
    </p>
  ) : null;
}
