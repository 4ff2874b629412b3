import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { CacheKeys } from 'src/cache/cache-keys';
import { CacheService } from 'src/cache/cache.service';
import type { ClientGrantType } from 'src/clients/client.entity';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import { uniqueViolation } from 'src/common/errors/db-errors';
import { OutboundHttpService } from 'src/outbound/outbound-http.service';
import { ClientsService } from 'src/clients/clients.service';
import type { CreateClientInput } from 'src/clients/dto/create-client.input';
import { AppError } from 'src/common/errors/app-error';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { OFFLINE_ACCESS, OIDC_SCOPES } from 'src/oauth/scopes';
import { MCP_SCOPES } from 'src/token-validation/oauth-resources';

/** RFC 7591 §3.2.2 error codes. */
export type RegistrationErrorCode = 'invalid_redirect_uri' | 'invalid_client_metadata';

export class RegistrationError extends Error {
  constructor(
    readonly error: RegistrationErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

/** RFC 7591 §3.2.1: the registered client's metadata, as answered. */
export interface RegistrationResponse {
  client_id: string;
  client_id_issued_at: number;
  client_name: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: 'none';
  scope: string;
}

const GRANTS: Record<string, ClientGrantType> = {
  authorization_code: 'authorization_code',
  refresh_token: 'refresh_token',
};
const REGISTRABLE_SCOPES: readonly string[] = [...OIDC_SCOPES, OFFLINE_ACCESS, ...MCP_SCOPES];
const MAX_NAME = 100;
const MAX_REDIRECTS = 10;
const PURGE_EVERY_MS = 10 * 60_000;

/**
 * RFC 7591 dynamic registration of public clients (MCP clients register themselves): the code flow
 * only, PKCE at the token endpoint, redirect URIs on loopback (`http://127.0.0.1`, `[::1]`,
 * `localhost`, any port) or https only; no roles, no secret. Rate limited per client address; a
 * client no person approved expires; people see a consent page before such a client gets a code.
 */
@Injectable()
export class ClientRegistrationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    private readonly clients: ClientsService,
    private readonly cache: CacheService,
    private readonly outbound: OutboundHttpService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.oauth.registration.enabled) return;
    this.purgeTimer = setInterval(
      () => void this.purgeUnused().catch(() => undefined),
      PURGE_EVERY_MS,
    ).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.purgeTimer);
  }

  async purgeUnused(): Promise<number> {
    const ttl = this.config.oauth.registration.unusedTtlSeconds;
    const removed = await this.clients.purgeUnusedDynamic(new Date(Date.now() - ttl * 1000));
    if (removed > 0) this.logger.info({ removed }, 'unused dynamic clients deleted');
    return removed;
  }

  /** Counts a registration from `address`: false once the hourly limit is reached (a 429). */
  async allow(address: string): Promise<boolean> {
    const key = CacheKeys.registrations(address);
    const count = (await this.cache.get<number>(key)) ?? 0;
    if (count >= this.config.oauth.registration.maxPerHour) return false;
    await this.cache.set(key, count + 1, 3600_000);
    return true;
  }

  /** RFC 7591 metadata checked into a client's policy (public, code flow, loopback or https). */
  private checked(metadata: unknown): CreateClientInput {
    if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw invalid('The body must be a JSON object of client metadata');
    }
    const m = metadata as Record<string, unknown>;
    const method = m.token_endpoint_auth_method ?? 'none';
    if (method !== 'none') {
      throw invalid('Only public clients register themselves: token_endpoint_auth_method none');
    }
    const redirectUris = stringList(m.redirect_uris, 'redirect_uris');
    if (redirectUris.length === 0 || redirectUris.length > MAX_REDIRECTS) {
      throw new RegistrationError(
        'invalid_redirect_uri',
        `redirect_uris: between 1 and ${MAX_REDIRECTS}`,
      );
    }
    for (const uri of redirectUris) {
      if (!loopbackOrHttps(uri)) {
        throw new RegistrationError(
          'invalid_redirect_uri',
          'redirect_uris: only https URLs, or http on a loopback address (127.0.0.1, [::1], localhost)',
        );
      }
    }
    const grants =
      m.grant_types === undefined
        ? ['authorization_code']
        : stringList(m.grant_types, 'grant_types');
    if (!grants.includes('authorization_code') || grants.some((g) => !(g in GRANTS))) {
      throw invalid('grant_types: authorization_code, and refresh_token if wanted');
    }
    const responseTypes =
      m.response_types === undefined ? ['code'] : stringList(m.response_types, 'response_types');
    if (responseTypes.length !== 1 || responseTypes[0] !== 'code') {
      throw invalid('response_types: code only');
    }
    const refresh = grants.includes('refresh_token');
    let scopes: string[];
    if (m.scope === undefined) {
      scopes = [...OIDC_SCOPES, ...(refresh ? [OFFLINE_ACCESS] : [])];
    } else {
      if (typeof m.scope !== 'string') throw invalid('scope must be a string');
      scopes = [...new Set(m.scope.split(' ').filter((s) => s.length > 0))];
      if (scopes.some((s) => !REGISTRABLE_SCOPES.includes(s))) {
        throw invalid(`scope: only ${REGISTRABLE_SCOPES.join(' ')}`);
      }
      if (refresh && !scopes.includes(OFFLINE_ACCESS)) scopes.push(OFFLINE_ACCESS);
    }
    if (m.client_name !== undefined && typeof m.client_name !== 'string') {
      throw invalid('client_name must be a string');
    }
    const name = ((m.client_name as string | undefined) ?? '').trim().slice(0, MAX_NAME);
    return {
      name: name || 'Unnamed application',
      grantTypes: grants.map((g) => GRANTS[g]),
      scopes,
      tokenEndpointAuthMethod: 'none',
      redirectUris,
    } as unknown as CreateClientInput;
  }

  /**
   * Client ID Metadata Documents: a URL `client_id` is fetched through the outbound policy (no
   * redirects, size and time limits, no link-local or metadata addresses), at most every 5 minutes per
   * URL, and kept as a self-registered client (consent page, expires when unused) whose metadata
   * follows the document. Undefined when the document cannot be fetched or is not acceptable: the
   * authorization endpoint then shows "not registered" (never a redirect).
   */
  async resolveClient(clientId: string): Promise<ClientSnapshot | undefined> {
    const existing = await this.clients.findByClientId(clientId);
    if (
      !this.config.oauth.clientMetadata.enabled ||
      !isMetadataDocumentUrl(clientId, this.config)
    ) {
      return existing;
    }
    if (existing && existing.registration !== 'dynamic') return existing;
    const key = CacheKeys.clientMetadata(clientId);
    if (existing && (await this.cache.get<number>(key))) return existing;
    let input: CreateClientInput;
    try {
      const res = await this.outbound.request(clientId);
      if (res.status !== 200) throw invalid(`status ${res.status}`);
      const doc = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
      if (!doc || typeof doc !== 'object' || doc.client_id !== clientId) {
        throw invalid('client_id of the document is not its URL');
      }
      input = this.checked(doc);
    } catch (err) {
      this.logger.info(
        { clientId, reason: err instanceof Error ? err.message.slice(0, 100) : 'unknown' },
        'client metadata document refused',
      );
      return undefined;
    }
    if (!existing) {
      try {
        await this.clients.create(input, undefined, 'dynamic', clientId);
      } catch (err) {
        // Another node registered it at the same time: fine, it is there now.
        if (uniqueViolation(err) === undefined) {
          if (err instanceof AppError && err.kind === 'BAD_INPUT') return undefined;
          throw err;
        }
      }
    } else {
      try {
        await this.clients.update(existing.id, input);
      } catch (err) {
        if (err instanceof AppError && err.kind === 'BAD_INPUT') return undefined;
        throw err;
      }
    }
    await this.cache.set(key, 1, 5 * 60_000);
    return this.clients.findByClientId(clientId);
  }

  async register(metadata: unknown): Promise<RegistrationResponse> {
    const input = this.checked(metadata);
    let created;
    try {
      created = await this.clients.create(input, undefined, 'dynamic');
    } catch (err) {
      if (err instanceof AppError && err.kind === 'BAD_INPUT') {
        throw new RegistrationError('invalid_client_metadata', err.message);
      }
      throw err;
    }
    const c = created.client;
    this.logger.info(
      { clientId: c.clientId, redirectUris: c.redirectUris.length },
      'client registered itself',
    );
    return {
      client_id: c.clientId,
      client_id_issued_at: Math.floor(new Date(c.createdAt).getTime() / 1000),
      client_name: c.name,
      redirect_uris: c.redirectUris,
      grant_types: c.grantTypes,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: c.scopes.join(' '),
    };
  }
}

/** Whether a client id is a metadata document URL we may fetch (https; http on loopback in development). */
export function isMetadataDocumentUrl(clientId: string, config: AppConfig): boolean {
  if (!/^https?:\/\//.test(clientId) || clientId.length > 512) return false;
  let u: URL;
  try {
    u = new URL(clientId);
  } catch {
    return false;
  }
  // draft-ietf-oauth-client-id-metadata-document: https, a path, no fragment, no credentials.
  if (u.hash || u.username || u.password || u.pathname === '/' || u.href !== clientId) return false;
  const allowed = config.oauth.clientMetadata.allowedHosts;
  if (allowed.length > 0 && !allowed.includes(u.hostname)) return false;
  if (u.protocol === 'https:') return true;
  return config.mode === 'development' && loopbackOrHttps(clientId);
}

function invalid(description: string): RegistrationError {
  return new RegistrationError('invalid_client_metadata', description);
}

function stringList(v: unknown, name: string): string[] {
  if (
    !Array.isArray(v) ||
    v.length > 50 ||
    v.some((x) => typeof x !== 'string' || x.length > 2048)
  ) {
    throw invalid(`${name} must be an array of strings`);
  }
  return v as string[];
}

/** https anywhere, or http on a loopback host (RFC 8252 §7.3); nothing else (no custom schemes). */
function loopbackOrHttps(uri: string): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
}
