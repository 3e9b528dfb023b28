// Why an event fired a definition or not, and what a dry run would do: shown on the event's and the
// definition's pages.
import type { DryRunResult } from "../../domain/explain/dry-run.ts";
import type { ClauseExplanation } from "../../domain/explain/explain-condition.ts";
import type { EventExplanation } from "../../domain/explain/explain-event.ts";
import type { MatchExplanation } from "../../domain/explain/explain-match.ts";
import { Json, Problem, Status } from "./layout.tsx";

const verdictClass = (verdict: boolean | "undecided") =>
  verdict === true ? "status-completed" : verdict === false ? "status-failed" : "status-retrying";

const Verdict = ({ verdict }: { verdict: boolean | "undecided" | null }) =>
  verdict === null ? (
    <span class="status">deleted</span>
  ) : (
    <span class={`status ${verdictClass(verdict)}`}>
      {verdict === true ? "matched" : verdict === false ? "no match" : "undecided"}
    </span>
  );

function Clauses({ clauses }: { clauses: ClauseExplanation[] }) {
  return (
    <ul class="clauses">
      {clauses.map((c) => (
        <li class={c.verdict === true ? "ok" : "bad"}>
          <code>{c.text}</code>
          {c.clauses?.length ? <Clauses clauses={c.clauses} /> : null}
        </li>
      ))}
    </ul>
  );
}

export function Why({ why }: { why: MatchExplanation }) {
  return (
    <ul class="clauses">
      <li class={why.active.passed ? "ok" : "bad"}>{why.active.text}</li>
      <li class={why.collection.passed ? "ok" : "bad"}>{why.collection.text}</li>
      <li class={why.type.passed ? "ok" : "bad"}>{why.type.text}</li>
      <li class={why.condition.verdict === true ? "ok" : "bad"}>
        condition {why.condition.clauses.length === 0 ? "(none: always true)" : ""}
        <Clauses clauses={why.condition.clauses} />
      </li>
    </ul>
  );
}

export function Explanation({ explanation }: { explanation: EventExplanation }) {
  return (
    <section class="card wide" aria-label="Why it fired">
      <h2>Why it fired (or didn't)</h2>
      <p class="muted">
        {explanation.configuration.note}. {explanation.depth.note}.
      </p>
      {explanation.omitted.note ? <p class="muted">{explanation.omitted.note}.</p> : null}
      {explanation.definitions.length === 0 ? (
        <p class="muted">No definition watches {explanation.event.collection}.</p>
      ) : null}
      {explanation.definitions.map((d) => (
        <article class="action">
          <h3>
            <Verdict verdict={d.matched} />{" "}
            {d.deleted ? (
              <span class="mono">{d.definition.id} (deleted)</span>
            ) : (
              <a href={`/dashboard/definitions/${d.definition.id}`}>{d.definition.name}</a>
            )}
            {d.changedSinceMatched && !d.deleted ? (
              <span class="muted"> · changed since this event was matched</span>
            ) : null}
          </h3>
          {d.why ? <Why why={d.why} /> : null}
          {d.produced.length ? (
            <p>
              Produced:{" "}
              {d.produced.map((p) => (
                <span>
                  {p.kind} <Status status={p.status} />
                  {p.waiting ? ` waiting (${p.waiting.replace("_", " ")})` : ""}{" "}
                </span>
              ))}
            </p>
          ) : null}
        </article>
      ))}
    </section>
  );
}

export function DryRunForm({
  action,
  csrf,
  example,
  result,
  error,
}: {
  action: string;
  csrf: string;
  example: string;
  result?: DryRunResult;
  error?: string;
}) {
  return (
    <section class="card wide" aria-label="Dry run">
      <h2>Dry run</h2>
      <p>What this definition would do with a change. Nothing is written, queued or sent.</p>
      <form method="post" action={action}>
        <input type="hidden" name="csrf" value={csrf} />
        <label for="change">
          A would-be event (<code>{'{"event": {...}}'}</code>) or record write (<code>{'{"record": {...}}'}</code>)
        </label>
        <textarea id="change" name="change" rows={6} class="mono">
          {example}
        </textarea>
        <button type="submit" class="button primary">
          Dry run
        </button>
      </form>
      <Problem message={error} />
      {result ? (
        <div id="dry-run-result">
          {result.definitions.map((d) => (
            <article class="action">
              <h3>
                <Verdict verdict={d.matched} /> {d.definition.name}
              </h3>
              <Why why={d.why} />
              {d.webhooks.map((w) => (
                <div>
                  <p>
                    Would send to webhook <span class="mono">{w.webhookId}</span>:
                  </p>
                  {w.request ? <Json value={w.request} /> : <p class="warn">{w.error?.message}</p>}
                </div>
              ))}
              {d.triggers.map((t) => (
                <div>
                  <p>
                    Trigger {t.action} in {t.targetCollection}:{" "}
                    {t.stopped ?? t.error?.message ?? `${t.count} record${t.count === 1 ? "" : "s"}`}
                  </p>
                  {t.records.length ? <Json value={t.records} /> : null}
                </div>
              ))}
            </article>
          ))}
          {result.omitted.note ? <p class="muted">{result.omitted.note}.</p> : null}
          <p class="muted">{result.note}</p>
        </div>
      ) : null}
    </section>
  );
}
