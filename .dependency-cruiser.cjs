// The architecture, checked in CI (`npm run lint:deps`): arrows between folders point one way only.
//   server (all routes in one process) -> handlers (api, dashboard, worker, sweep, ops, client)
//   handlers -> http (the HTTP edge: app, auth, errors, Lambda adapter) -> domain -> platform
// Type-only imports count: they tie folders together as much as values do.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-folder-cycles",
      comment: "Two folders that import each other are one tangle: a reader cannot take one in without the other.",
      severity: "error",
      scope: "folder",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-file-cycles",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "platform-stays-below-domain",
      comment:
        "platform/ is plumbing (database, queue, HTTP, config): it knows nothing of tetik's domain or its handlers.",
      severity: "error",
      from: { path: "^functions/platform/" },
      to: { path: "^functions/(domain|http|server|api|dashboard|worker|sweep|ops|client)/" },
    },
    {
      name: "domain-stays-below-handlers",
      comment: "The domain is called by the handlers, the worker and the sweep alike: it imports none of them.",
      severity: "error",
      from: { path: "^functions/domain/" },
      to: { path: "^functions/(http|server|api|dashboard|worker|sweep|ops|client)/" },
    },
    {
      name: "http-stays-below-handlers",
      comment: "http/ is the edge every HTTP function shares: it knows no route, page or job.",
      severity: "error",
      from: { path: "^functions/http/" },
      to: { path: "^functions/(server|api|dashboard|worker|sweep|ops|client)/" },
    },
    {
      name: "nothing-imports-the-server",
      comment: "server/ puts every route in one process (npm run serve, tests): no function depends on it.",
      severity: "error",
      from: { path: "^functions/", pathNot: "^functions/server/" },
      to: { path: "^functions/server/" },
    },
    {
      name: "delivery-kinds-use-the-action-log",
      comment:
        "Action kinds record through the action log; the log knows no kind (a kind is a registry entry, not SQL).",
      severity: "error",
      from: { path: "^functions/domain/delivery/action-log/" },
      to: { path: "^functions/domain/delivery/(kinds/|[^/]+\\.ts$)" },
    },
  ],
  options: {
    includeOnly: "^functions/",
    exclude: { path: "^functions/platform/db/generated/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
  },
};
