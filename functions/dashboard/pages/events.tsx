// The event log with the API's filters, and one event's page: its data, what it matched, every attempt of
// every action on a timeline, the chain it belongs to, and Replay.
import type { Child } from "hono/jsx";
import type { z } from "zod";
import type * as shape from "../../api/contract/shapes.ts";
import type { DeliveryAttempt } from "../../platform/db.ts";
import { Action, Json, Ms, Problem, Status, Table, Time } from "./layout.tsx";
import type { Waiting } from "../../domain/delivery/waiting.ts";

type Event = z.output<typeof shape.Event>;
export type EventFilters = Partial<Record<"status" | "type" | "collection" | "recordId" | "since" | "until", string>>;

const STATUSES = ["pending", "processing", "completed", "retrying", "failed"];
const TYPES = ["collection.created", "collection.updated", "collection.deleted"];

/** Why a delivery waits, as a person reads it. */
const WAITING: Record<Waiting, string> = {
  order: "an earlier event about the same record",
  rate: "the webhook's rate limit",
  in_flight: "the webhook's cap on requests at once",
  paused: "the receiver asked for a break",
};

export function EventsPage({
  events,
  nextCursor,
  filters,
  error,
}: {
  events: Event[];
  nextCursor: string | null;
  filters: EventFilters;
  error?: string;
}) {
  const query = (extra: Record<string, string>) =>
    new URLSearchParams({ ...(filters as Record<string, string>), ...extra }).toString();
  return (
    <div>
      <h1>Events</h1>
      <form method="get" action="/dashboard/events" class="filters" aria-label="Filter the log">
        <label>
          Status
          <select name="status">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s} selected={filters.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select name="type">
            <option value="">any</option>
            {TYPES.map((t) => (
              <option value={t} selected={filters.type === t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Collection <input name="collection" value={filters.collection ?? ""} />
        </label>
        <label>
          Record id <input name="recordId" value={filters.recordId ?? ""} />
        </label>
        <label>
          Since <input name="since" value={filters.since ?? ""} placeholder="2026-11-30T00:00:00Z" />
        </label>
        <label>
          Until <input name="until" value={filters.until ?? ""} placeholder="2026-11-30T23:59:59Z" />
        </label>
        <button type="submit" class="button primary">
          Filter
        </button>
      </form>
      <Problem message={error} />
      <div id="live" data-refresh="5000">
        <Table class="events" columns={["Received", "Event", "Type", "Record", "Status", "Attempts", "Took"]}>
          {events.map((e) => (
            <tr>
              <td>
                <Time at={e.receivedAt} />
              </td>
              <td>
                <a href={`/dashboard/events/${e.id}`}>{e.id}</a>
              </td>
              <td>{e.type}</td>
              <td>
                {e.collection}/{e.recordId}
              </td>
              <td>
                <Status status={e.status} />
              </td>
              <td>{e.attempts}</td>
              <td>
                <Ms ms={e.durationMs} />
              </td>
            </tr>
          ))}
        </Table>
        {events.length === 0 ? <p class="muted">No events match.</p> : null}
        {nextCursor ? (
          <p>
            <a class="button secondary" href={`/dashboard/events?${query({ cursor: nextCursor })}`}>
              Older events
            </a>
          </p>
        ) : null}
      </div>
    </div>
  );
}

interface Related {
  id: string;
  type: string;
  collection: string;
  recordId: string;
  status: string;
}

export function EventPage({
  event,
  attempts,
  cause,
  caused,
  csrf,
  notice,
  mayReplay,
  explanation,
}: {
  event: Event;
  attempts: DeliveryAttempt[];
  cause: Related | null;
  caused: Related[];
  csrf: string;
  notice?: string;
  /** Whether the session's key may replay (the `replay` scope): else no replay button is shown. */
  mayReplay: boolean;
  explanation?: Child;
}) {
  const failed = event.actions.some((a) => a.status === "failed");
  return (
    <div>
      <h1>
        Event <span class="mono">{event.id}</span>
      </h1>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <div id="live" data-refresh="3000">
        <section class="card wide" aria-label="Summary">
          <p>
            <Status status={event.status} /> {event.type} of{" "}
            <strong>
              {event.collection}/{event.recordId}
            </strong>
            {event.error ? <span class="warn"> {event.error}</span> : null}
          </p>
          <dl class="pairs">
            <dt>Received</dt>
            <dd>
              <Time at={event.receivedAt} />
            </dd>
            <dt>Started</dt>
            <dd>
              <Time at={event.startedAt} />
            </dd>
            <dt>Finished</dt>
            <dd>
              <Time at={event.completedAt} />
            </dd>
            <dt>Took</dt>
            <dd>
              <Ms ms={event.durationMs} />
            </dd>
            <dt>Changed fields</dt>
            <dd>{event.changedFields.length ? event.changedFields.join(", ") : <span class="muted">-</span>}</dd>
            <dt>Depth</dt>
            <dd>{event.depth}</dd>
          </dl>
          {mayReplay ? (
            <div class="actions-bar">
              {failed ? (
                <Action action={`/dashboard/events/${event.id}/replay`} csrf={csrf} label="Replay failed actions" />
              ) : null}
              <Action
                action={`/dashboard/events/${event.id}/replay`}
                csrf={csrf}
                label="Replay all actions"
                fields={{ all: "true" }}
                kind="secondary"
              />
            </div>
          ) : null}
        </section>
        <section class="card wide" aria-label="Actions">
          <h2>Actions ({event.actions.length})</h2>
          {event.actions.length === 0 ? <p class="muted">No definition matched this event.</p> : null}
          {event.actions.map((a) => {
            // A webhook action's attempts are those to its webhook (an event has one action per webhook).
            const mine = a.kind === "webhook" ? attempts.filter((t) => t.webhookId === a.id) : [];
            return (
              <article class="action">
                <h3>
                  <Status status={a.status} /> {a.kind}{" "}
                  {a.kind === "webhook" ? (
                    <a href={`/dashboard/webhooks/${a.id}`}>{a.id}</a>
                  ) : (
                    <span class="mono">{a.id}</span>
                  )}{" "}
                  of definition <a href={`/dashboard/definitions/${a.definitionId}`}>{a.definitionId}</a>
                  {a.waiting ? <span class="muted"> · waiting for its turn ({WAITING[a.waiting]})</span> : null}
                </h3>
                <p>
                  {a.attempts} attempt{a.attempts === 1 ? "" : "s"}, <Ms ms={a.durationMs} /> in all
                  {a.nextAttemptAt ? (
                    <>
                      {" "}
                      · next try <Time at={a.nextAttemptAt} />
                    </>
                  ) : null}
                  {a.error ? (
                    <span class="warn">
                      {" "}
                      · {a.errorCode}: {a.error}
                    </span>
                  ) : null}
                </p>
                {mine.length ? (
                  <ol class="timeline">
                    {mine.map((t) => (
                      <li class={t.ok ? "ok" : "bad"}>
                        <strong>#{t.attempt}</strong> <Time at={t.requestedAt} /> · {t.status ?? "no answer"} ·{" "}
                        <Ms ms={t.durationMs} />
                        {t.error ? (
                          <span class="warn">
                            {" "}
                            · {t.errorCode}: {t.error}
                          </span>
                        ) : null}
                        {t.responseBody ? (
                          <details>
                            <summary>Response body</summary>
                            <pre class="json">{t.responseBody}</pre>
                          </details>
                        ) : null}
                      </li>
                    ))}
                  </ol>
                ) : null}
                {a.result && a.kind === "trigger" ? <Json value={a.result} /> : null}
              </article>
            );
          })}
        </section>
      </div>
      {explanation}
      <section class="card wide" aria-label="Chain">
        <h2>Chain</h2>
        <p>
          Caused by:{" "}
          {cause ? (
            <a href={`/dashboard/events/${cause.id}`}>
              {cause.type} of {cause.collection}/{cause.recordId} ({cause.id})
            </a>
          ) : (
            <span class="muted">a change reported to tetik</span>
          )}
        </p>
        {caused.length ? (
          <ul>
            {caused.map((c) => (
              <li>
                <a href={`/dashboard/events/${c.id}`}>
                  {c.type} of {c.collection}/{c.recordId}
                </a>{" "}
                <Status status={c.status} />
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">It caused no other event.</p>
        )}
      </section>
      <div class="grid">
        <section class="card" aria-label="Data">
          <h2>Data</h2>
          <Json value={event.data} />
        </section>
        <section class="card" aria-label="Previous">
          <h2>Previous</h2>
          {event.previous ? <Json value={event.previous} /> : <p class="muted">none</p>}
        </section>
      </div>
    </div>
  );
}
