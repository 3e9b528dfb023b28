// Serverless function "access": API keys and the audit trail of changes. Admin keys only.
import { listAuditEntries } from "../domain/audit/audit-log.ts";
import { createKey, getKey, listKeys, revokeKey } from "../domain/keys/api-keys.ts";
import { createCoreDeps, type CoreDeps } from "../platform/core-deps.ts";
import { fromPg } from "../platform/sql.ts";
import { actorOf } from "../http/actor.ts";
import { addRoute } from "../http/add-route.ts";
import { createApp, type App } from "../http/create-app.ts";
import { lambdaHandler } from "../http/lambda-handler.ts";
import { accessRoutes as routes } from "./contract/routes.ts";
import { auditEntryView, keyView } from "./views.ts";

export function accessRoutes(app: App, deps: CoreDeps): App {
  const q = fromPg(deps.pool);

  addRoute(app, routes.createKey, async (c) => {
    const { key, row } = await createKey(deps, c.req.valid("json"), actorOf(c));
    return c.json({ ...keyView(row), key }, 201);
  });

  addRoute(app, routes.listKeys, async (c) => {
    const page = await listKeys(q, c.req.valid("query"));
    return c.json({ data: page.data.map(keyView), nextCursor: page.nextCursor }, 200);
  });

  addRoute(app, routes.getKey, async (c) => c.json(keyView(await getKey(q, c.req.valid("param").id)), 200));

  addRoute(app, routes.revokeKey, async (c) => {
    await revokeKey(deps, c.req.valid("param").id, actorOf(c));
    return c.body(null, 204);
  });

  addRoute(app, routes.listAudit, async (c) => {
    const page = await listAuditEntries(q, c.req.valid("query"));
    return c.json({ data: page.data.map(auditEntryView), nextCursor: page.nextCursor }, 200);
  });

  return app;
}

export const handler = lambdaHandler((deps) => accessRoutes(createApp(deps), deps), createCoreDeps);
