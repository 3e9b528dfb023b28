// Definitions and webhooks: lists and detail pages, turning one on or off, a test delivery and its
// answer, and a new secret shown once.
import type { Child } from "hono/jsx";
import type { z } from "zod";
import type * as shape from "../../api/contract/shapes.ts";
import type { Allowed } from "../permissions.ts";
import { Action, Json, Ms, Status, Table, Time } from "./layout.tsx";

type Definition = z.output<typeof shape.Definition>;
type DefinitionDetail = z.output<typeof shape.DefinitionDetail>;
type Webhook = z.output<typeof shape.Webhook>;
type Delivery = z.output<typeof shape.Delivery>;
type Flow = z.output<typeof shape.WebhookWithFlow>["flow"];
type TestResult = z.output<typeof shape.TestResult>;

const OnOff = ({ active }: { active: boolean }) => (
  <span class={`status ${active ? "status-completed" : "status-failed"}`}>{active ? "on" : "off"}</span>
);

function Health({ webhook }: { webhook: Webhook }) {
  const h = webhook.health;
  return (
    <span>
      {h.disabledReason ? (
        <span class="warn">turned off: {h.disabledReason}</span>
      ) : h.consecutiveFailures > 0 ? (
        <span class="warn">{h.consecutiveFailures} failures in a row</span>
      ) : (
        <span>healthy</span>
      )}
    </span>
  );
}

export function DefinitionsPage({ definitions, nextCursor }: { definitions: Definition[]; nextCursor: string | null }) {
  return (
    <div>
      <h1>Definitions</h1>
      <Table columns={["Name", "When", "Condition", "State"]}>
        {definitions.map((d) => (
          <tr>
            <td>
              <a href={`/dashboard/definitions/${d.id}`}>{d.name}</a>
            </td>
            <td>
              {d.type} on {d.collection}
              {d.fields ? ` (${d.fields.join(", ")})` : ""}
            </td>
            <td>
              <code>{d.condition ? JSON.stringify(d.condition) : "always"}</code>
            </td>
            <td>
              <OnOff active={d.active} />
            </td>
          </tr>
        ))}
      </Table>
      {definitions.length === 0 ? <p class="muted">No definitions yet: create one with POST /definitions.</p> : null}
      {nextCursor ? (
        <p>
          <a class="button secondary" href={`/dashboard/definitions?cursor=${nextCursor}`}>
            More
          </a>
        </p>
      ) : null}
    </div>
  );
}

export function DefinitionPage({
  definition,
  csrf,
  notice,
  dryRun,
  mayToggle,
}: {
  definition: DefinitionDetail;
  csrf: string;
  notice?: string;
  /** The dry-run form, when the session's key may dry-run. */
  dryRun?: Child;
  /** Whether the session's key may turn the definition on and off (`config`). */
  mayToggle: boolean;
}) {
  const d = definition;
  return (
    <div>
      <h1>
        {d.name} <OnOff active={d.active} />
      </h1>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <section class="card wide" aria-label="Definition">
        <p>{d.description ?? ""}</p>
        <dl class="pairs">
          <dt>Fires on</dt>
          <dd>
            {d.type} in <strong>{d.collection}</strong>
            {d.fields ? ` when ${d.fields.join(", ")} changed` : ""}
          </dd>
          <dt>Id</dt>
          <dd class="mono">{d.id}</dd>
          <dt>Updated</dt>
          <dd>
            <Time at={d.updatedAt} />
          </dd>
        </dl>
        <h2>Condition</h2>
        {d.condition ? <Json value={d.condition} /> : <p class="muted">none: every {d.type} event matches</p>}
        {mayToggle ? (
          <Action
            action={`/dashboard/definitions/${d.id}/active`}
            csrf={csrf}
            label={d.active ? "Turn off" : "Turn on"}
            fields={{ active: String(!d.active) }}
            kind={d.active ? "danger" : "primary"}
          />
        ) : null}
      </section>
      <section class="card wide" aria-label="Webhooks">
        <h2>Webhooks ({d.webhooks.length})</h2>
        <Table columns={["URL", "State", "Health", "Last success"]}>
          {d.webhooks.map((w) => (
            <tr>
              <td>
                <a href={`/dashboard/webhooks/${w.id}`}>{w.url}</a>
              </td>
              <td>
                <OnOff active={w.active} />
              </td>
              <td>
                <Health webhook={w} />
              </td>
              <td>
                <Time at={w.health.lastSuccessAt} />
              </td>
            </tr>
          ))}
        </Table>
      </section>
      {dryRun}
      <section class="card wide" aria-label="Triggers">
        <h2>Triggers ({d.triggers.length})</h2>
        {d.triggers.map((t) => (
          <article class="action">
            <h3>
              {t.action} in <strong>{t.targetCollection}</strong> <OnOff active={t.active} />
            </h3>
            {t.filter ? (
              <>
                <p>Filter</p>
                <Json value={t.filter} />
              </>
            ) : null}
            {t.data ? (
              <>
                <p>Data</p>
                <Json value={t.data} />
              </>
            ) : null}
          </article>
        ))}
      </section>
    </div>
  );
}

export function WebhooksPage({ webhooks, nextCursor }: { webhooks: Webhook[]; nextCursor: string | null }) {
  return (
    <div>
      <h1>Webhooks</h1>
      <Table columns={["URL", "Definition", "State", "Health", "Last error"]}>
        {webhooks.map((w) => (
          <tr>
            <td>
              <a href={`/dashboard/webhooks/${w.id}`}>{w.url}</a>
            </td>
            <td>
              <a href={`/dashboard/definitions/${w.definitionId}`}>{w.definitionId}</a>
            </td>
            <td>
              <OnOff active={w.active} />
            </td>
            <td>
              <Health webhook={w} />
            </td>
            <td>{w.health.lastError ?? ""}</td>
          </tr>
        ))}
      </Table>
      {webhooks.length === 0 ? <p class="muted">No webhooks yet.</p> : null}
      {nextCursor ? (
        <p>
          <a class="button secondary" href={`/dashboard/webhooks?cursor=${nextCursor}`}>
            More
          </a>
        </p>
      ) : null}
    </div>
  );
}

export function WebhookPage({
  webhook,
  flow,
  deliveries,
  csrf,
  test,
  secret,
  notice,
  may,
}: {
  webhook: Webhook;
  /** Null when Redis cannot be reached. */
  flow: Flow | null;
  deliveries: Delivery[];
  csrf: string;
  test?: TestResult;
  secret?: string;
  notice?: string;
  /** What the session's key may press: each button only when it may. */
  may: Pick<Allowed, "testWebhook" | "toggleWebhook" | "rotateSecret">;
}) {
  const w = webhook;
  return (
    <div>
      <h1>
        Webhook <OnOff active={w.active} />
      </h1>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      {secret ? (
        <section class="card wide secret" aria-label="New secret">
          <h2>New signing secret</h2>
          <p>Shown this once: copy it to the receiver now. The old secret keeps signing for 24 hours.</p>
          <pre class="json" id="new-secret">
            {secret}
          </pre>
        </section>
      ) : null}
      {test ? (
        <section class="card wide" aria-label="Test delivery">
          <h2>Test delivery: {test.ok ? "delivered" : "failed"}</h2>
          <dl class="pairs">
            <dt>Status</dt>
            <dd id="test-status">{test.status ?? "no answer"}</dd>
            <dt>Took</dt>
            <dd>
              <Ms ms={test.durationMs} />
            </dd>
            {test.error ? (
              <>
                <dt>Error</dt>
                <dd class="warn">{test.error}</dd>
              </>
            ) : null}
          </dl>
          {test.responseBody ? <pre class="json">{test.responseBody}</pre> : null}
        </section>
      ) : null}
      <section class="card wide" aria-label="Webhook">
        <dl class="pairs">
          <dt>URL</dt>
          <dd>
            {w.method} {w.url}
          </dd>
          <dt>Definition</dt>
          <dd>
            <a href={`/dashboard/definitions/${w.definitionId}`}>{w.definitionId}</a>
          </dd>
          <dt>Health</dt>
          <dd>
            <Health webhook={w} />
          </dd>
          <dt>Last success</dt>
          <dd>
            <Time at={w.health.lastSuccessAt} />
          </dd>
          <dt>Last failure</dt>
          <dd>
            <Time at={w.health.lastFailureAt} /> {w.health.lastError ?? ""}
          </dd>
          <dt>Retries</dt>
          <dd>
            {w.retry.maxAttempts} attempts, {w.retry.backoff} from {w.retry.delayMs} ms, timeout {w.timeoutMs} ms
          </dd>
          <dt>Flow control</dt>
          <dd>
            {w.ordering === "record" ? "one at a time per record, in order, " : ""}
            {w.maxPerSecond ? `at most ${w.maxPerSecond} a second` : "no rate limit"},{" "}
            {w.maxInFlight ? `at most ${w.maxInFlight} at once` : "no cap on requests at once"}
          </dd>
          <dt>Flow now</dt>
          <dd>
            {flow ? (
              <>
                {flow.inFlight} in flight, {flow.waiting} waiting for their turn
                {flow.pausedUntil ? (
                  <span class="warn">
                    {" "}
                    · paused by the receiver until <Time at={flow.pausedUntil} />
                  </span>
                ) : null}
              </>
            ) : (
              <span class="warn">unknown: Redis is unreachable</span>
            )}
          </dd>
          <dt>Headers</dt>
          <dd>
            <code>{JSON.stringify(w.headers)}</code>
          </dd>
          <dt>Secret headers</dt>
          <dd>
            {w.secretHeaders.length > 0 ? (
              <>
                <code>{w.secretHeaders.join(", ")}</code> (values sent on deliveries, never shown)
              </>
            ) : (
              "none"
            )}
          </dd>
        </dl>
        {may.testWebhook || may.toggleWebhook || may.rotateSecret ? (
          <div class="actions-bar">
            {may.testWebhook ? (
              <Action action={`/dashboard/webhooks/${w.id}/test`} csrf={csrf} label="Send a test delivery" />
            ) : null}
            {may.toggleWebhook ? (
              <Action
                action={`/dashboard/webhooks/${w.id}/active`}
                csrf={csrf}
                label={w.active ? "Turn off" : "Turn on"}
                fields={{ active: String(!w.active) }}
                kind={w.active ? "danger" : "secondary"}
              />
            ) : null}
            {may.rotateSecret ? (
              <Action
                action={`/dashboard/webhooks/${w.id}/rotate-secret`}
                csrf={csrf}
                label="Rotate secret"
                kind="secondary"
              />
            ) : null}
          </div>
        ) : null}
      </section>
      <section class="card wide" aria-label="Recent deliveries">
        <h2>Recent deliveries</h2>
        <Table columns={["When", "Event", "Attempt", "Status", "Took", "Error"]}>
          {deliveries.map((d) => (
            <tr>
              <td>
                <Time at={d.requestedAt} />
              </td>
              <td>
                {d.eventId ? (
                  <a href={`/dashboard/events/${d.eventId}`}>{d.eventId}</a>
                ) : (
                  <span class="muted">test</span>
                )}
              </td>
              <td>{d.attempt}</td>
              <td>
                <Status status={d.ok ? "completed" : "failed"} /> {d.status ?? ""}
              </td>
              <td>
                <Ms ms={d.durationMs} />
              </td>
              <td>{d.error ?? ""}</td>
            </tr>
          ))}
        </Table>
      </section>
    </div>
  );
}
