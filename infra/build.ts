// `npm run build [outdir]`: the programs a container runs, bundled by esbuild into dist/ (what
// infra/worker.Dockerfile copies): the worker, the API as one Node server, the local sweep timer, migrations,
// and the re-encryption of webhook secrets. Each bundle holds every package it uses: the image has no
// node_modules (but Swagger UI's files, which GET /docs reads).
import { build } from "esbuild";

const entries = {
  worker: "functions/worker/main.ts",
  server: "functions/server/main.ts",
  sweep: "functions/sweep/local.ts",
  migrate: "functions/ops/migrate.ts",
  // For a one-off task after a rotation of SECRETS_KEY (README, Rotating secrets).
  "reencrypt-secrets": "functions/ops/reencrypt-secrets.ts",
};

await build({
  entryPoints: entries,
  outdir: process.argv[2] ?? "dist",
  outExtension: { ".js": ".mjs" },
  // What the programs share (Prisma's client, BullMQ, the domain) is one chunk, not a copy in each.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  sourcemap: true,
  // Some dependencies are CommonJS and call require(): give the ESM bundle one.
  banner: {
    js:
      "import { createRequire as __createRequire } from 'node:module'; " +
      "const require = __createRequire(import.meta.url);",
  },
  external: ["pg-native"],
  logLevel: "info",
});
