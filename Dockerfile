# zeus-recover: the Slack bot (default command) and the CLI, in one image.
#
#   docker build -t zeus-recover .
#   docker run --rm --env-file .env -p 3000:3000 zeus-recover
#   docker run --rm --env-file .env zeus-recover node bin/zeus-recover.js inspect c-1
#
# No Docker engine is needed to check this file: test/integration/docker-build-steps.test.ts
# interprets it (FROM, WORKDIR, ENV, COPY, RUN, USER, EXPOSE, HEALTHCHECK, CMD) in temporary
# directories — it runs these RUN lines, starts CMD and runs HEALTHCHECK. Keep to those
# instructions, plain paths (no wildcards) and paths under WORKDIR.

# 1. Build: all dependencies (the compiler is a dev dependency), then tsc to dist/.
#    NODE_ENV must not be "production" in this stage, or npm ci would leave the compiler out.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. Production dependencies only, installed from the same lock file.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# 3. Runtime: node_modules (prod), dist/, bin/. Files stay owned by root and read-only to the
#    app, which runs as the image's unprivileged "node" user (uid 1000) and writes nothing to
#    disk, so a read-only root filesystem works.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json ./
COPY bin ./bin
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# node is PID 1 and handles SIGTERM/SIGINT itself (graceful stop of the Slack receiver,
# delivery worker and sweeper); the CLI is `node bin/zeus-recover.js …` (it runs dist/cli).
CMD ["node", "dist/main.js"]
