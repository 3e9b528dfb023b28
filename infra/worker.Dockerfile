# tetik's container image: the worker (default command), the migrations (the one-off task of
# infra/run-migrations.sh), and the API server and sweep timer for docker compose.
# Build from the repository root: docker build -f infra/worker.Dockerfile -t tetik .
#
# The base is pinned to one Node release (a patch tag stops being rebuilt once the next is out, so its
# content stays put). To move it: `docker buildx imagetools inspect node:22-bookworm-slim` names the current
# release; pass it as --build-arg NODE_IMAGE=node:<version>-bookworm-slim@sha256:<index digest>, or change
# the default below.
ARG NODE_IMAGE=node:22.22.0-bookworm-slim

# 1. Bundle the programs (esbuild, see infra/build.ts); npm ci also generates the Prisma client. This stage
#    runs on the machine that builds (BUILDPLATFORM): its output is JavaScript, the same for every CPU, so an
#    x86 machine builds the ARM64 image without emulating ARM64.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY functions ./functions
COPY infra/build.ts ./infra/build.ts
RUN npm run build

# 2. The image: the bundles (which hold every dependency they use), the migrations, the reference page's
#    files, a user without privileges; no node_modules, no npm run. Nothing runs in this stage, so it needs
#    no emulation either. test/worker-image.test.ts runs these files alone.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    WORKER_HEARTBEAT_FILE=/tmp/tetik-worker-heartbeat
WORKDIR /app
COPY --from=build /app/dist ./dist
COPY prisma/migrations ./prisma/migrations
# GET /docs serves Swagger UI's files from the package (functions/api/docs.ts), as the docs function does.
COPY --from=build /app/node_modules/swagger-ui-dist/package.json /app/node_modules/swagger-ui-dist/swagger-ui.css /app/node_modules/swagger-ui-dist/swagger-ui-bundle.js /app/node_modules/swagger-ui-dist/favicon-32x32.png ./node_modules/swagger-ui-dist/
# The RDS CA, which Node trusts only when told (NODE_EXTRA_CA_CERTS): with queue=postgres the worker's queue
# connects to the database itself, whose certificate it signs (infra/aws/environment.cjs).
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /app/rds-ca.pem
USER node
# Healthy while the worker touches its heartbeat file: every 10 s once Redis and Postgres have answered.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "process.exit(Date.now() - require('fs').statSync(process.env.WORKER_HEARTBEAT_FILE).mtimeMs < 60000 ? 0 : 1)"
# On one machine (docker compose) the worker migrates first: idempotent, one runner at a time (an advisory
# lock). In AWS the task runs the worker alone: the Migrations custom resource ran them before.
CMD ["sh", "-c", "node dist/migrate.mjs && exec node --enable-source-maps dist/worker.mjs"]
