// Serverless function "docs": GET /openapi.json (the OpenAPI 3.1 document, generated from the route
// declarations) and GET /docs (Swagger UI, served with its assets from the swagger-ui-dist package: the
// page works with no internet). Both are open without the API key: they describe the API, they reveal no
// data. Swagger UI rather than Scalar: its bundle makes no request of its own (Scalar's loads fonts from
// its CDN unless told not to), and its 1.7 MB load once per browser.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { addRoute } from "../http/add-route.ts";
import { createApp, type App } from "../http/create-app.ts";
import { docsRoutes as routes } from "./contract/routes.ts";
import { openApiDocument } from "./contract/openapi-document.ts";
import { handle } from "hono/aws-lambda";
import { loadConfig } from "../platform/config.ts";
import { logger } from "../platform/logger.ts";

/** The files of swagger-ui-dist the page loads, by the name it loads them under /docs/. */
const ASSETS: Record<string, { file: string; type: string }> = {
  "swagger-ui.css": { file: "swagger-ui.css", type: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": { file: "swagger-ui-bundle.js", type: "text/javascript; charset=utf-8" },
  "favicon.png": { file: "favicon-32x32.png", type: "image/png" },
};

// Everything the page runs is served from here, so the browser may be told to load nothing from elsewhere.
const PAGE_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
  "connect-src 'self'; frame-ancestors 'none'";

// Relative addresses: the page works under any path prefix (an API Gateway stage, a proxy).
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tetik API reference</title>
<link rel="icon" type="image/png" href="docs/favicon.png">
<link rel="stylesheet" href="docs/swagger-ui.css">
<style>body { margin: 0; } .swagger-ui .info { margin: 32px 0 24px; }</style>
</head>
<body>
<main id="reference"></main>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to swagger.io to show a badge.
const INIT = `window.ui = SwaggerUIBundle({
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#reference",
  validatorUrl: null,
  deepLinking: true,
  displayRequestDuration: true,
  tryItOutEnabled: false,
  defaultModelsExpandDepth: 0,
});
`;

let assetDir: string | undefined;
const assets = new Map<string, Buffer>();

function asset(name: string): Buffer {
  let content = assets.get(name);
  if (!content) {
    assetDir ??= dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
    content = readFileSync(join(assetDir, ASSETS[name]!.file));
    assets.set(name, content);
  }
  return content;
}

export function docsRoutes(app: App): App {
  addRoute(app, routes.openapi, (c) => c.json(openApiDocument(), 200));

  addRoute(app, routes.docs, (c) => {
    c.header("content-security-policy", PAGE_POLICY);
    return c.html(PAGE, 200);
  });

  app.get("/docs/:asset", (c) => {
    const name = c.req.param("asset");
    if (name === "init.js")
      return c.body(INIT, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" });
    if (!Object.hasOwn(ASSETS, name)) return c.notFound();
    return c.body(new Uint8Array(asset(name)), 200, {
      "content-type": ASSETS[name]!.type,
      "cache-control": "public, max-age=86400",
    });
  });

  return app;
}

// Needs no database, Redis or secret: what it serves is built from code and open to all.
let lambda: ReturnType<typeof handle> | undefined;
export const handler: ReturnType<typeof handle> = (event, context) => {
  lambda ??= handle(docsRoutes(createApp({ config: loadConfig(), log: logger("docs") })));
  return lambda(event, context);
};
