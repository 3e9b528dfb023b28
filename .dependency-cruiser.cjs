// The architecture, checked in CI (`npm run lint:deps`): arrows between folders point one way only.
//   handlers (api, dashboard, worker, sweep, ops, client) -> domain -> platform
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
      to: { path: "^functions/(domain|api|dashboard|worker|sweep|ops|client)/" },
    },
    {
      name: "domain-stays-below-handlers",
      comment: "The domain is called by the handlers, the worker and the sweep alike: it imports none of them.",
      severity: "error",
      from: { path: "^functions/domain/" },
      to: { path: "^functions/(api|dashboard|worker|sweep|ops|client)/" },
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
