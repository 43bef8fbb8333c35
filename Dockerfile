# syntax=docker/dockerfile:1
# Multi-stage: compile TypeScript with the dev dependencies, ship only dist/ and production dependencies.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY schema.graphql ./schema.graphql
USER node
EXPOSE 3000
# Migrations are a separate, explicit step: docker run <image> node dist/cli/migrate.js
CMD ["node", "dist/server.js"]
