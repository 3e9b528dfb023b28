# tetik's container image: the worker (default command), and the API server and sweep timer for
# docker-compose. Build from the repository root: docker build -f infra/worker.Dockerfile -t tetik .

# 1. Bundle the programs (esbuild, see infra/build.ts); npm ci also generates the Prisma client.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY functions ./functions
COPY infra/build.ts ./infra/build.ts
RUN npm run build

# 2. Production dependencies only: the bundles need none; Prisma's CLI (migrate status, resolve) does,
#    for whoever looks at a database from a container.
FROM node:22-bookworm-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. The image: bundles, migrations, production dependencies, a user without privileges.
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    WORKER_HEARTBEAT_FILE=/tmp/tetik-worker-heartbeat
WORKDIR /app
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json prisma.config.ts ./
COPY prisma ./prisma
USER node
# Healthy while the worker touches its heartbeat file (every 10 s while it runs).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "process.exit(Date.now() - require('fs').statSync(process.env.WORKER_HEARTBEAT_FILE).mtimeMs < 60000 ? 0 : 1)"
# On one machine (docker compose) the worker migrates first: idempotent, one runner at a time (an advisory
# lock). In AWS the task runs the worker alone: the Migrations custom resource ran them before.
CMD ["sh", "-c", "node dist/migrate.mjs && exec node --enable-source-maps dist/worker.mjs"]
