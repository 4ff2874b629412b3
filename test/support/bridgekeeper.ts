import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from 'src/bootstrap';
import { createLogger } from 'src/common/logging/logger';
import { loadConfig } from 'src/config/config.loader';
import type { AppConfig } from 'src/config/config.types';
import { freePort } from './ports';
import { createTestDatabase } from './postgres';

export interface TrustedIssuerSpec {
  name: string;
  issuer: string;
  jwks?: string;
  userinfo?: string;
  opaque?: boolean;
  audiences?: string;
  algorithms?: string;
  provisioning?: 'jit' | 'existing';
  maxTokenAge?: number;
  fhirBase?: string;
}

export interface StartOptions {
  issuers: TrustedIssuerSpec[];
  /** `<issuerName>:<sub>` identities that get ADMIN. */
  admins?: string[];
  redisUrl?: string;
  databaseUrl?: string;
  /** Extra `bridgekeeper.*` properties. */
  properties?: Record<string, string>;
}

/** A running Bridgekeeper on a free loopback port with its logs captured in memory. */
export interface RunningBridgekeeper {
  url: string;
  databaseUrl: string;
  config: AppConfig;
  app: NestFastifyApplication;
  /** Every log line written so far, raw JSON text. */
  logs: string[];
  get(path: string, token?: string, headers?: Record<string, string>): Promise<Response>;
  post(path: string, body: unknown, token?: string): Promise<Response>;
  graphql(
    query: string,
    token?: string,
    variables?: Record<string, unknown>,
  ): Promise<{ status: number; headers: Headers; body: GraphqlBody }>;
  close(): Promise<void>;
}

export interface GraphqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown> }[];
  error?: string;
}

/**
 * The `bridgekeeper.*` properties of a test node: its port and public URL, the deployment's database and
 * secrets key (derived from the database URL, so nodes of one database share it), its issuers and admins,
 * then `options.properties` on top. Used for in-process nodes and child-process nodes alike.
 */
export function nodeProperties(
  options: StartOptions,
  node: { port: number; databaseUrl: string; dataDir: string },
): Record<string, string> {
  const { port: listenPort, databaseUrl, dataDir } = node;
  const props: Record<string, string> = {
    'bridgekeeper.http.port': String(listenPort),
    'bridgekeeper.public.url': `http://127.0.0.1:${listenPort}`,
    // Nodes sharing a database share the key that decrypts its signing keys (as in production).
    'bridgekeeper.secrets.key': createHash('sha256').update(`test:${databaseUrl}`).digest('base64'),
    'bridgekeeper.data.dir': dataDir,
    'bridgekeeper.database.url': databaseUrl,
    'bridgekeeper.log.level': 'debug',
    'bridgekeeper.auth.jwt.trusted.issuers': options.issuers.map((i) => i.name).join(','),
    ...(options.admins ? { 'bridgekeeper.auth.admins': options.admins.join(',') } : {}),
    ...(options.redisUrl ? { 'bridgekeeper.redis.url': options.redisUrl } : {}),
    // Tests make many deliberate client-authentication failures from 127.0.0.1; the specs of the rate
    // limits (rate-limits.e2e-spec.ts) set their own, small limits.
    'bridgekeeper.rate.limit.client.auth.failures': '100000',
    'bridgekeeper.rate.limit.client.auth.failures.per.address': '1000000',
  };
  for (const i of options.issuers) {
    const p = `bridgekeeper.auth.jwt.trusted.issuer.${i.name}`;
    props[`${p}.issuer`] = i.issuer;
    if (i.jwks) props[`${p}.jwks`] = i.jwks;
    if (i.userinfo) props[`${p}.userinfo`] = i.userinfo;
    if (i.opaque) props[`${p}.opaque`] = 'true';
    if (i.audiences) props[`${p}.audiences`] = i.audiences;
    if (i.algorithms) props[`${p}.algorithms`] = i.algorithms;
    if (i.provisioning) props[`${p}.provisioning`] = i.provisioning;
    if (i.maxTokenAge !== undefined) props[`${p}.max.token.age`] = String(i.maxTokenAge);
    if (i.fhirBase) props[`${p}.fhir.base`] = i.fhirBase;
  }
  return { ...props, ...options.properties };
}

export async function startBridgekeeper(options: StartOptions): Promise<RunningBridgekeeper> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
  const dataDir = mkdtempSync(join(tmpdir(), 'bk-test-data-'));
  // A known port, so the public URL (the `iss` of our own tokens) is the address tests call. Nodes of
  // one deployment share a public URL: pass `bridgekeeper.public.url` to make a second node.
  const listenPort = await freePort();
  const props = nodeProperties(options, { port: listenPort, databaseUrl, dataDir });
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    overrides: props,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('debug', sink);
  const app = await createApp(config, logger);
  await app.listen({ port: listenPort, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;

  const auth = (token?: string): Record<string, string> =>
    token === undefined ? {} : { authorization: `Bearer ${token}` };
  return {
    url,
    databaseUrl,
    config,
    app,
    logs,
    get: (path, token, headers = {}) =>
      fetch(`${url}${path}`, { headers: { ...auth(token), ...headers } }),
    post: (path, body, token) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth(token) },
        body: JSON.stringify(body),
      }),
    graphql: async (query, token, variables) => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth(token) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as GraphqlBody };
    },
    close: async () => {
      try {
        await app.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Another node of `first`'s deployment: its database, secrets key and public URL (the `iss` of their own
 * tokens), as production nodes behind one load balancer. Pass the same `redisUrl` to share the cache.
 */
export function startPeer(
  first: RunningBridgekeeper,
  options: StartOptions,
): Promise<RunningBridgekeeper> {
  return startBridgekeeper({
    ...options,
    databaseUrl: first.databaseUrl,
    properties: { ...options.properties, 'bridgekeeper.public.url': first.url },
  });
}

/** Two nodes of one deployment: one database, the same Redis, secrets key and public URL. */
export async function startTwoNodes(
  options: StartOptions & { redisUrl: string },
): Promise<[RunningBridgekeeper, RunningBridgekeeper]> {
  const a = await startBridgekeeper(options);
  try {
    return [a, await startPeer(a, options)];
  } catch (err) {
    await a.close();
    throw err;
  }
}
