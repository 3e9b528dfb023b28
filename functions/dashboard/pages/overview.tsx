// The overview: how many events and how they ended, in the last hour and day; throughput and failures
// hour by hour; how soon the first attempt starts; the queue; webhooks in trouble; the sweep.
import type { Overview } from "../queries.ts";
import { Ms, Table, Time } from "./layout.tsx";

const STATUSES = ["pending", "processing", "completed", "retrying", "failed"] as const;

function Counts({ title, counts }: { title: string; counts: Record<string, number> }) {
  const total = STATUSES.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  return (
    <section class="card" aria-label={title}>
      <h2>{title}</h2>
      <p class="big">
        {total.toLocaleString("en")} <span class="muted">events</span>
      </p>
      <ul class="counts">
        {STATUSES.map((s) => (
          <li>
            <a href={`/dashboard/events?status=${s}`} class={`status status-${s}`}>
              {s}
            </a>{" "}
            <strong>{(counts[s] ?? 0).toLocaleString("en")}</strong>
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * Received events per hour (bars) and the failed among them (red), as an SVG drawn here: no chart library,
 * no script.
 */
function HourlyChart({ hours }: { hours: Overview["hours"] }) {
  const max = Math.max(1, ...hours.map((h) => h.received));
  const width = 720;
  const height = 160;
  const bar = width / hours.length;
  const received = hours.reduce((s, h) => s + h.received, 0);
  const failed = hours.reduce((s, h) => s + h.failed, 0);
  return (
    <section class="card wide" aria-label="Throughput and failures, last 24 hours">
      <h2>Last 24 hours, per hour</h2>
      <p>
        {received.toLocaleString("en")} received, {failed.toLocaleString("en")} failed
        {received > 0 ? ` (failure rate ${((failed / received) * 100).toFixed(2)}%)` : ""}; busiest hour{" "}
        {max.toLocaleString("en")}.
      </p>
      <svg
        viewBox={`0 0 ${width} ${height + 20}`}
        role="img"
        aria-label={`Events received per hour over the last 24 hours; ${failed} failed`}
        class="chart"
      >
        {hours.map((h, i) => {
          const hReceived = (h.received / max) * height;
          const hFailed = (h.failed / max) * height;
          return (
            <g>
              <title>{`${h.start.toISOString().slice(11, 16)} UTC: ${h.received} received, ${h.failed} failed`}</title>
              <rect x={i * bar + 2} y={height - hReceived} width={bar - 4} height={hReceived} class="bar" />
              <rect x={i * bar + 2} y={height - hFailed} width={bar - 4} height={hFailed} class="bar-failed" />
              {i % 3 === 0 ? (
                <text x={i * bar + 2} y={height + 15} class="axis">
                  {h.start.toISOString().slice(11, 13)}h
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <p class="legend">
        <span class="key key-received"></span> received <span class="key key-failed"></span> failed
      </p>
    </section>
  );
}

export function OverviewPage({ overview }: { overview: Overview }) {
  const { latency, queue, webhooks, sweep } = overview;
  return (
    <div id="live" data-refresh="10000">
      <h1>Overview</h1>
      <div class="grid">
        <Counts title="Last hour" counts={overview.lastHour} />
        <Counts title="Last 24 hours" counts={overview.lastDay} />
        <section class="card" aria-label="First attempt latency">
          <h2>First attempt, last hour</h2>
          <p>From an event's arrival to its first delivery attempt ({latency.sample.toLocaleString("en")} attempts).</p>
          <dl class="pairs">
            <dt>p50</dt>
            <dd>
              <Ms ms={latency.p50Ms} />
            </dd>
            <dt>p99</dt>
            <dd>
              <Ms ms={latency.p99Ms} />
            </dd>
          </dl>
        </section>
        <section class="card" aria-label="Queue and sweep">
          <h2>Queue</h2>
          {queue ? (
            <dl class="pairs">
              <dt>waiting</dt>
              <dd>{queue.waiting}</dd>
              <dt>delayed</dt>
              <dd>{queue.delayed}</dd>
              <dt>active</dt>
              <dd>{queue.active}</dd>
              <dt>failed</dt>
              <dd>{queue.failed}</dd>
            </dl>
          ) : (
            <p class="warn">Redis is unreachable: events wait in Postgres until it is back.</p>
          )}
          <h2>Sweep</h2>
          <p>
            Last ran <Time at={sweep.lastRunAt} /> <span class={`status sweep-${sweep.status}`}>{sweep.status}</span>
          </p>
        </section>
      </div>
      <HourlyChart hours={overview.hours} />
      <section class="card wide" aria-label="Paused webhooks">
        <h2>Webhooks paused by their receiver</h2>
        {overview.paused === null ? (
          <p class="warn">Redis is unreachable: pauses cannot be read.</p>
        ) : overview.paused.length === 0 ? (
          <p class="muted">None: no receiver asked for a break (429 or 503 with Retry-After).</p>
        ) : (
          <Table columns={["Webhook", "Paused until"]}>
            {overview.paused.map((w) => (
              <tr>
                <td>
                  <a href={`/dashboard/webhooks/${w.id}`}>{w.url}</a>
                </td>
                <td>
                  <Time at={w.until} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
      <section class="card wide" aria-label="Webhooks in trouble">
        <h2>Webhooks failing or disabled</h2>
        {webhooks.length === 0 ? (
          <p class="muted">None: every webhook's last delivery succeeded.</p>
        ) : (
          <Table columns={["Webhook", "Failures in a row", "Why"]}>
            {webhooks.map((w) => (
              <tr>
                <td>
                  <a href={`/dashboard/webhooks/${w.id}`}>{w.url}</a>
                  {w.active ? null : <span class="status status-failed">off</span>}
                </td>
                <td>{w.consecutiveFailures}</td>
                <td>{w.disabledReason ?? w.lastError ?? ""}</td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </div>
  );
}
