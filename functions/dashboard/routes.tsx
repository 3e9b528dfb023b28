// The dashboard at /dashboard: server-rendered pages (hono/jsx) over the same use cases the API calls,
// a stylesheet and one small script served from here. Pages fetch what they show and nothing more.
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Child } from "hono/jsx";
import {
  definitionDetailView,
  definitionView,
  deliveryView,
  eventView,
  flowView,
  testResultView,
  webhookView,
  webhookWithSecretView,
} from "../api/views.ts";
import { getDefinition, listDefinitions, updateDefinition } from "../domain/definitions/definitions.ts";
import { AppError } from "../domain/errors.ts";
import { eventLogQuery, getEvent, listEvents } from "../domain/events/event-log.ts";
import { replayEvent } from "../domain/delivery/replay.ts";
import { listQuery } from "../domain/validation.ts";
import { testWebhook } from "../domain/webhooks/test-webhook.ts";
import { getWebhook, listDeliveries, listWebhooks, rotateSecret, updateWebhook } from "../domain/webhooks/webhooks.ts";
import { webhookFlow } from "../domain/webhooks/webhook-flow.ts";
import { isDependencyDown } from "../platform/dependency-errors.ts";
import type { Deps } from "../platform/deps.ts";
import { actorOf } from "../http/actor.ts";
import { errorBody, type App, type AppEnv } from "../http/create-app.ts";
import { fromPg } from "../platform/sql.ts";
import { CSS, SCRIPT } from "./assets.ts";
import { DefinitionPage, DefinitionsPage, WebhookPage, WebhooksPage } from "./pages/config.tsx";
import { EventPage, EventsPage, type EventFilters } from "./pages/events.tsx";
import { Layout, type Frame } from "./pages/layout.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import { attemptsOf, causedBy, readOverview } from "./queries.ts";
import { DryRunForm, Explanation } from "./pages/explain.tsx";
import { dryRun, dryRunInput, type DryRunResult } from "../domain/explain/dry-run.ts";
import { explainEvent } from "../domain/explain/explain-event.ts";
import { sessions } from "./session.ts";
import { createKeyLookup } from "../domain/keys/key-lookup.ts";
import { allowed, requireAllowed } from "./permissions.ts";
import { keysRoutes } from "./keys-routes.tsx";
import { auditRoutes } from "./audit-routes.tsx";

const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  // Pages show secrets once (a rotated one) and live data: never kept by the browser or a proxy.
  "cache-control": "no-store",
};
const MAX_FORM_BYTES = 16 * 1024;
const wantsJson = (c: Context) => {
  const accept = c.req.header("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
};

export function dashboardRoutes(app: App, deps: Deps): App {
  const q = fromPg(deps.pool);
  // The API's lookup of keys, on this deps' clock: a session finds its key again on every request.
  const keys = createKeyLookup(q, {
    now: deps.now,
    onError: (err) => deps.log.warn({ err }, "lastUsedAt not written"),
  });
  const session = sessions(
    { apiKey: deps.config.API_KEY, offline: deps.config.IS_OFFLINE === "true" },
    { q, now: deps.now, keys },
  );
  const dash = new Hono<AppEnv>();

  /** What the session's key may see and press (nothing before sign-in). */
  const may = (c: Context<AppEnv>) => allowed(c.get("principal"));
  const render = (c: Context, section: Frame["section"], title: string, body: Child, status = 200) => {
    const frame: Frame = {
      title,
      section,
      open: session.open,
      csrf: session.csrfToken(c),
      signedIn: section !== "none",
      may: may(c),
    };
    for (const [name, value] of Object.entries(PAGE_HEADERS)) c.header(name, value);
    return c.html(<Layout frame={frame}>{body}</Layout>, status as 200);
  };
  /** A form's fields, once its CSRF token is checked (its size is capped before anything reads it, below). */
  const form = async (c: Context): Promise<Record<string, string>> => {
    const fields = (await c.req.parseBody()) as Record<string, string>;
    if (!session.checkCsrf(c, fields.csrf))
      throw new AppError("unauthorized", "this form has expired: reload the page and try again");
    return fields;
  };
  // What an action did, said on the page it returns to: a fixed set, so a link cannot put words on a page.
  const NOTICES: Record<string, (n: string) => string> = {
    replayed: (n) => `${Number(n) || 0} action${n === "1" ? "" : "s"} queued again`,
    on: () => "Turned on",
    off: () => "Turned off",
  };
  const back = (c: Context, path: string, done: keyof typeof NOTICES, n = "") =>
    c.redirect(`${path}?done=${done}${n ? `&n=${n}` : ""}`, 303);
  const notice = (c: Context) => NOTICES[c.req.query("done") ?? ""]?.(c.req.query("n") ?? "");

  // Every body, chunked ones included, is cut off at the cap before it is read: sign-in needs no session.
  dash.use("*", bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.text("the form is too large", 413) }));

  dash.get("/assets/app.css", (c) =>
    c.body(CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=3600" }),
  );
  dash.get("/assets/app.js", (c) =>
    c.body(SCRIPT, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600" }),
  );

  dash.get("/sign-in", (c) =>
    session.open ? c.redirect("/dashboard", 303) : render(c, "none", "Sign in", <SignInPage />),
  );
  dash.post("/sign-in", async (c) => {
    if (session.open) return c.redirect("/dashboard", 303);
    const { key } = await c.req.parseBody();
    const signIn = await session.signIn(c, key);
    if (signIn.ok) return c.redirect("/dashboard", 303);
    if (signIn.reason === "wrong_key")
      return render(
        c,
        "none",
        "Sign in",
        <SignInPage error="That is not a key of this server (or not any more)." />,
        401,
      );
    const { by, retryAfterSeconds } = signIn;
    const who = by === "address" ? "from your address" : "from many addresses";
    c.header("retry-after", String(retryAfterSeconds));
    const error = `Too many wrong keys ${who}: sign-in is paused for ${retryAfterSeconds} s. Try again after that.`;
    return render(c, "none", "Sign in", <SignInPage error={error} />, 429);
  });

  dash.use("*", session.required());

  dash.post("/sign-out", async (c) => {
    await form(c);
    await session.end(c);
    return c.redirect("/dashboard/sign-in", 303);
  });

  // A key that may not read the log but may configure starts at the definitions.
  dash.get("/", async (c, next) =>
    !may(c).overview && may(c).definitions ? c.redirect("/dashboard/definitions", 303) : next(),
  );
  dash.get("/", requireAllowed("overview"), async (c) =>
    render(c, "overview", "Overview", <OverviewPage overview={await readOverview(deps)} />),
  );

  dash.get("/events", requireAllowed("events"), async (c) => {
    const raw = c.req.query();
    const filters: EventFilters = {};
    for (const name of ["status", "type", "collection", "recordId", "since", "until"] as const)
      if (raw[name]) filters[name] = raw[name];
    const parsed = eventLogQuery.safeParse({ ...filters, limit: "50", ...(raw.cursor ? { cursor: raw.cursor } : {}) });
    if (!parsed.success) {
      const error = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      return render(
        c,
        "events",
        "Events",
        <EventsPage events={[]} nextCursor={null} filters={filters} error={error} />,
        400,
      );
    }
    const page = await listEvents(deps, parsed.data);
    return render(
      c,
      "events",
      "Events",
      <EventsPage events={page.data.map(eventView)} nextCursor={page.nextCursor} filters={filters} />,
    );
  });

  dash.get("/events/:id", requireAllowed("events"), async (c) => {
    const id = c.req.param("id");
    const event = eventView(await getEvent(q, id));
    const [attempts, caused, cause, explanation] = await Promise.all([
      attemptsOf(deps, id),
      causedBy(deps, id),
      event.causationId ? getEvent(q, event.causationId).then(eventView, () => null) : Promise.resolve(null),
      // The page refreshes its live part only: the explanation is not asked for again each time.
      c.req.header("x-tetik-refresh") ? Promise.resolve(undefined) : explainEvent(q, deps.config, id),
    ]);
    return render(
      c,
      "events",
      `Event ${id}`,
      <EventPage
        event={event}
        attempts={attempts}
        cause={cause}
        caused={caused}
        csrf={session.csrfToken(c)}
        notice={notice(c)}
        mayReplay={may(c).replay}
        explanation={explanation ? <Explanation explanation={explanation} /> : undefined}
      />,
    );
  });

  dash.post("/events/:id/replay", requireAllowed("replay"), async (c) => {
    const { all } = await form(c);
    const { actions } = await replayEvent(deps, c.req.param("id"), { all: all === "true" }, actorOf(c));
    return back(c, `/dashboard/events/${c.req.param("id")}`, "replayed", String(actions));
  });

  const pageQuery = (c: Context) => {
    const parsed = listQuery.safeParse({
      limit: "50",
      ...(c.req.query("cursor") ? { cursor: c.req.query("cursor") } : {}),
    });
    if (!parsed.success) throw new AppError("invalid_request", "that is not a page of this list");
    return parsed.data;
  };

  dash.get("/definitions", requireAllowed("definitions"), async (c) => {
    const page = await listDefinitions(deps.db, pageQuery(c));
    return render(
      c,
      "definitions",
      "Definitions",
      <DefinitionsPage definitions={page.data.map(definitionView)} nextCursor={page.nextCursor} />,
    );
  });
  const definitionPage = async (c: Context, dry: { change?: string; result?: DryRunResult; error?: string } = {}) => {
    const definition = definitionDetailView(await getDefinition(deps.db, c.req.param("id")!), deps.config);
    const example =
      dry.change ??
      JSON.stringify({ record: { collection: definition.collection, id: "r-1", data: {}, previous: {} } }, null, 2);
    const form = may(c).dryRun && (
      <DryRunForm
        action={`/dashboard/definitions/${definition.id}/dry-run`}
        csrf={session.csrfToken(c)}
        example={example}
        result={dry.result}
        error={dry.error}
      />
    );
    return render(
      c,
      "definitions",
      definition.name,
      <DefinitionPage
        definition={definition}
        csrf={session.csrfToken(c)}
        notice={notice(c)}
        dryRun={form || undefined}
        mayToggle={may(c).toggleDefinition}
      />,
      dry.error ? 400 : 200,
    );
  };
  dash.get("/definitions/:id", requireAllowed("definitions"), (c) => definitionPage(c));
  // Answers with the page itself: a dry run's result is shown, not stored.
  dash.post("/definitions/:id/dry-run", requireAllowed("dryRun"), async (c) => {
    const { change } = await form(c);
    let input: unknown;
    try {
      input = JSON.parse(change ?? "");
    } catch {
      return definitionPage(c, { change, error: "That is not JSON." });
    }
    const parsed = dryRunInput.safeParse(input);
    if (!parsed.success)
      return definitionPage(c, {
        change,
        error: parsed.error.issues.map((i) => `${i.path.join(".") || "change"}: ${i.message}`).join("; "),
      });
    const result = await dryRun({ q, config: deps.config, now: deps.now }, parsed.data, {
      definitionId: c.req.param("id"),
    });
    return definitionPage(c, { change, result });
  });
  dash.post("/definitions/:id/active", requireAllowed("toggleDefinition"), async (c) => {
    const active = (await form(c)).active === "true";
    await updateDefinition(deps, c.req.param("id"), { active }, actorOf(c));
    return back(c, `/dashboard/definitions/${c.req.param("id")}`, active ? "on" : "off");
  });

  dash.get("/webhooks", requireAllowed("webhooks"), async (c) => {
    const page = await listWebhooks(deps.db, pageQuery(c));
    return render(
      c,
      "webhooks",
      "Webhooks",
      <WebhooksPage webhooks={page.data.map((w) => webhookView(w, deps.config))} nextCursor={page.nextCursor} />,
    );
  });
  const webhookPage = async (c: Context, extra: { test?: ReturnType<typeof testResultView>; secret?: string } = {}) => {
    const id = c.req.param("id")!;
    const [webhook, deliveries, flow] = await Promise.all([
      getWebhook(deps.db, id),
      listDeliveries(deps.db, id, { limit: 20 }),
      webhookFlow(deps, id).catch(() => null),
    ]);
    return render(
      c,
      "webhooks",
      "Webhook",
      <WebhookPage
        webhook={webhookView(webhook, deps.config)}
        flow={flow && flowView(flow)}
        deliveries={deliveries.data.map(deliveryView)}
        csrf={session.csrfToken(c)}
        notice={notice(c)}
        may={may(c)}
        {...extra}
      />,
    );
  };
  dash.get("/webhooks/:id", requireAllowed("webhooks"), (c) => webhookPage(c));
  dash.post("/webhooks/:id/active", requireAllowed("toggleWebhook"), async (c) => {
    const active = (await form(c)).active === "true";
    await updateWebhook(deps, c.req.param("id"), { active }, actorOf(c));
    return back(c, `/dashboard/webhooks/${c.req.param("id")}`, active ? "on" : "off");
  });
  // These two answer with the page itself: the test's answer and the new secret are shown once, not stored.
  dash.post("/webhooks/:id/test", requireAllowed("testWebhook"), async (c) => {
    await form(c);
    const test = testResultView(await testWebhook(deps, c.req.param("id")));
    return webhookPage(c, { test });
  });
  dash.post("/webhooks/:id/rotate-secret", requireAllowed("rotateSecret"), async (c) => {
    await form(c);
    const { secret } = webhookWithSecretView(await rotateSecret(deps, c.req.param("id"), actorOf(c)), deps.config);
    return webhookPage(c, { secret });
  });

  keysRoutes(dash, { deps, q, render, form, csrf: (c) => session.csrfToken(c) });
  auditRoutes(dash, { q, render });

  dash.notFound((c) =>
    render(
      c,
      "none",
      "Not found",
      <section class="card">
        <h1>Not found</h1>
        <p>
          <a href="/dashboard">Back to the overview</a>
        </p>
      </section>,
      404,
    ),
  );
  dash.onError((error, c) => {
    if (error instanceof AppError) {
      // A script that asks for JSON gets the API's error shape; a browser, a page with the same code and words.
      if (wantsJson(c)) return c.json(errorBody(error.code, error.message, error.details), error.status as 400);
      return render(
        c,
        "none",
        "Not possible",
        <section class="card">
          <h1>{error.status === 404 ? "Not found" : "Not possible"}</h1>
          <p id="error-message">{error.message}</p>
          <p class="muted">
            Error code: <code id="error-code">{error.code}</code>
          </p>
          <p>
            <a href="/dashboard">Back to the overview</a>
          </p>
        </section>,
        error.status,
      );
    }
    const down = isDependencyDown(error);
    if (!down) deps.log.error({ err: error, path: c.req.path }, "dashboard error");
    return render(
      c,
      "none",
      "Unavailable",
      <section class="card">
        <h1>{down ? "A dependency is down" : "Something went wrong"}</h1>
        <p>{down ? "Postgres or Redis is unreachable; try again shortly." : "The error is in the logs."}</p>
      </section>,
      down ? 503 : 500,
    );
  });

  app.route("/dashboard", dash);
  return app;
}
