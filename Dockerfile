# syntax=docker/dockerfile:1
#
# One image for all five services. Pick the service at run time with SERVICE
# (gateway | rooms | history | presence | moderation), or bake a default in with
#   docker build --build-arg SERVICE=rooms -t chat-rooms .
# Any other command can be run as well, e.g. the history migrations:
#   docker run --rm -e DATABASE_URL=... <image> node apps/history/dist/migrate.js
#
# docker-compose.yml builds this image once and runs every service from it.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install everything, compile, then drop the dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

# The manifests first, so that the install layer is reused while only sources change.
# Every workspace (package.json "workspaces": libs/*, apps/*) must be listed here.
COPY package.json package-lock.json ./
COPY libs/client/package.json libs/client/
COPY libs/contracts/package.json libs/contracts/
COPY libs/format/package.json libs/format/
COPY libs/messaging/package.json libs/messaging/
COPY libs/platform/package.json libs/platform/
COPY libs/testing/package.json libs/testing/
COPY apps/gateway/package.json apps/gateway/
COPY apps/history/package.json apps/history/
COPY apps/moderation/package.json apps/moderation/
COPY apps/presence/package.json apps/presence/
COPY apps/rooms/package.json apps/rooms/
# --ignore-scripts: no dependency needs an install script to build or run here (native
# modules such as @node-rs/argon2 ship prebuilt per platform); it also keeps optional
# dev-only native builds (cpu-features via testcontainers) from needing a compiler.
# npm ci: exactly the lock file, which holds every platform's optional binaries (linux-musl included).
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --ignore-scripts

COPY tsconfig.base.json tsconfig.build.json ./
# `npm run build` also bundles the web client (apps/gateway/web + libs/client) with esbuild.
COPY scripts/build-web.mjs scripts/
COPY libs libs
COPY apps apps
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf libs/*/src apps/*/src apps/gateway/web

# ---- runtime: production dependencies, compiled output, the web client ----
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=gateway
ENV NODE_ENV=production \
    SERVICE=${SERVICE}
WORKDIR /app

# node_modules/@chat/* are workspace links to ../../libs/*, so libs keep their layout.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/libs ./libs
COPY --from=build /app/apps ./apps

# The built-in unprivileged user of the node images; the app only reads its files.
USER node

# gateway 3000, rooms 3001, presence 3002, history 3003, moderation 3004 (HTTP_PORT overrides).
EXPOSE 3000 3001 3002 3003 3004

# /health/ready answers 200 once every dependency of the service is reachable. The slim image
# has no curl, so Node's fetch does the request.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const d={gateway:3000,rooms:3001,presence:3002,history:3003,moderation:3004};const p=process.env.HTTP_PORT||d[process.env.SERVICE]||3000;fetch('http://127.0.0.1:'+p+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# exec: node becomes the main process and receives SIGTERM for a graceful shutdown.
CMD ["sh", "-c", "case \"$SERVICE\" in gateway|rooms|history|presence|moderation) exec node \"apps/$SERVICE/dist/main.js\" ;; *) echo \"SERVICE must be gateway, rooms, history, presence or moderation (got '$SERVICE')\" >&2; exit 2 ;; esac"]
