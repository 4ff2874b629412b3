# Production image. External PostgreSQL and Redis are expected (BRIDGEKEEPER_DATABASE_URL,
# BRIDGEKEEPER_REDIS_URL); the embedded PostgreSQL is a development convenience. Migrations run at
# start unless BRIDGEKEEPER_DATABASE_MIGRATIONS_RUN=false.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# The admin console (Vite): built into console/dist by `npm run build`, served at /console.
COPY console ./console
COPY scripts/console-build.mjs ./scripts/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    BRIDGEKEEPER_HTTP_HOST=0.0.0.0 \
    BRIDGEKEEPER_HTTP_PORT=3000 \
    BRIDGEKEEPER_DATA_DIR=/var/lib/bridgekeeper
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/console/dist ./console/dist
RUN mkdir -p /var/lib/bridgekeeper && chown node:node /var/lib/bridgekeeper
# The image's unprivileged user (uid 1000).
USER node
EXPOSE 3000
# No curl in the slim image: Node's fetch checks liveness.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.BRIDGEKEEPER_HTTP_PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
