import type { AuditRequest } from 'src/audit/audit-context';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from 'src/audit/audit.service';
import { sha256Base64url } from 'src/common/crypto/sha256';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import { ClientsService } from 'src/clients/clients.service';
import { headerOf } from 'src/identity/identity.service';
import { CLIENT_ASSERTION_TYPE, ClientAssertionService } from 'src/oauth/client-assertion.service';
import type { OauthForm } from 'src/oauth/oauth-form';
import { OauthError, OauthErrors } from 'src/oauth/oauth.errors';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { type RateLimit, RateLimitsService } from 'src/rate-limits/rate-limits.service';

/** The endpoints that authenticate clients, each with its own per-client limit. */
export type ClientEndpoint = 'token' | 'introspection' | 'revocation';

/** The shape of our client ids: only such a claimed id is kept in the audit log of a failure. */
const CLIENT_ID_SHAPE = /^bkc_[A-Za-z0-9_-]{22}$|^bridgekeeper-[a-z-]{1,40}$/;

export const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
] as const;
/** At the token and revocation endpoints a public client (RFC 6749 §2.1) names itself, and PKCE proves it. */
export const TOKEN_ENDPOINT_AUTH_METHODS = [...CLIENT_AUTH_METHODS, 'none'] as const;

/**
 * Client authentication for the token, revocation and introspection endpoints: `client_secret_basic`
 * (RFC 6749 §2.3.1: form-urlencoded id and secret in HTTP Basic), `client_secret_post`, or
 * `private_key_jwt` (RFC 7523 §2.2: a signed assertion), never two at once. A client registered for
 * private_key_jwt is refused a secret, and a secret client an assertion. Every failure is the same
 * `invalid_client`, whatever was wrong. Where `allowPublic` (token and revocation endpoints), a client
 * registered as public (`none`) names itself with `client_id` alone: it holds no secret, and the
 * authorization-code grant binds its code to the PKCE verifier.
 */
@Injectable()
export class ClientAuthService {
  private readonly perAddress: RateLimit;
  private readonly failuresPerClient: RateLimit;
  private readonly failuresPerAddress: RateLimit;
  private readonly perClient: Record<ClientEndpoint, RateLimit>;

  constructor(
    private readonly clients: ClientsService,
    private readonly assertions: ClientAssertionService,
    private readonly audit: AuditService,
    limits: RateLimitsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const r = config.rateLimits;
    const w = r.windowSeconds;
    this.perAddress = limits.limit('oauth-address', r.perAddress, w);
    this.failuresPerClient = limits.limit('client-auth-failures', r.clientAuthFailures, w);
    this.failuresPerAddress = limits.limit(
      'client-auth-failures-address',
      r.clientAuthFailuresPerAddress,
      w,
    );
    this.perClient = {
      token: limits.limit('token-client', r.tokenPerClient, w),
      introspection: limits.limit('introspection-client', r.introspectionPerClient, w),
      revocation: limits.limit('revocation-client', r.revocationPerClient, w),
    };
  }

  /**
   * Authenticates the client of a token, introspection or revocation request, under the brakes on
   * guessing (issue 13 §3): requests per client address; failed authentications per (claimed client id,
   * address) and, higher, per address (both checked before the client is looked up, so an unknown client
   * costs exactly what a known one does, and a misconfigured client sharing an address slows down only
   * itself); and
   * requests per authenticated client (counted only after authentication, so no other caller can use up
   * a client's allowance). Over a limit: 429 `slow_down` with `Retry-After`. A failure is audited.
   */
  async authenticate(
    request: { headers?: Record<string, unknown> } & AuditRequest,
    form: OauthForm,
    endpoint: ClientEndpoint,
    options: { allowPublic?: boolean } = {},
  ): Promise<ClientSnapshot> {
    const authorization = headerOf(request.headers, 'authorization');
    const claimed =
      form.get('client_id') ?? (authorization ? decodeBasic(authorization)?.clientId : undefined);
    // The claimed id (any text) only ever appears hashed in a limiter key.
    const pair = `${request.ip}|${sha256Base64url(claimed ?? '')}`;
    const [address, failures, pairFailures] = await Promise.all([
      this.perAddress.consume(request.ip),
      this.failuresPerAddress.peek(request.ip),
      this.failuresPerClient.peek(pair),
    ]);
    if (address > 0) throw OauthErrors.slowDown(this.perAddress.name, address);
    if (failures > 0) throw OauthErrors.slowDown(this.failuresPerAddress.name, failures);
    if (pairFailures > 0) throw OauthErrors.slowDown(this.failuresPerClient.name, pairFailures);
    let client: ClientSnapshot;
    try {
      client = await this.identify(request.headers, form, options);
    } catch (err) {
      if (err instanceof OauthError && err.error === 'invalid_client') {
        await Promise.all([
          this.failuresPerAddress.consume(request.ip),
          this.failuresPerClient.consume(pair),
        ]);
        this.audit.security(
          {
            action: 'client.authentication.failure',
            outcome: 'FAILURE',
            actorId: null,
            clientId: claimed !== undefined && CLIENT_ID_SHAPE.test(claimed) ? claimed : null,
            details: { endpoint, reason: err.reason },
          },
          request,
        );
      }
      throw err;
    }
    const limit = this.perClient[endpoint];
    const wait = await limit.consume(client.clientId);
    if (wait > 0) throw OauthErrors.slowDown(limit.name, wait);
    return client;
  }

  private async identify(
    headers: Record<string, unknown> | undefined,
    form: OauthForm,
    options: { allowPublic?: boolean },
  ): Promise<ClientSnapshot> {
    const authorization = headerOf(headers, 'authorization');
    const postId = form.get('client_id');
    const postSecret = form.get('client_secret');
    const basic = authorization !== undefined && /^basic(\s|$)/i.test(authorization);
    if (basic && postSecret !== undefined) {
      throw OauthErrors.invalidRequest('Use one client authentication method, not two');
    }
    const assertionType = form.get('client_assertion_type');
    const assertion = form.get('client_assertion');
    if (assertionType !== undefined || assertion !== undefined) {
      if (basic || postSecret !== undefined) {
        throw OauthErrors.invalidRequest('Use one client authentication method, not two');
      }
      if (assertionType !== CLIENT_ASSERTION_TYPE || assertion === undefined) {
        throw OauthErrors.invalidClient('assertion_type_unsupported_or_missing');
      }
      return this.assertions.authenticate(assertion, postId);
    }
    let clientId: string | undefined;
    let secret: string | undefined;
    if (basic) {
      const decoded = decodeBasic(authorization);
      if (!decoded) throw OauthErrors.invalidClient('basic_malformed');
      ({ clientId, secret } = decoded);
      if (postId !== undefined && postId !== clientId) {
        throw OauthErrors.invalidRequest('client_id does not match the authenticated client');
      }
    } else {
      clientId = postId;
      secret = postSecret;
    }
    if (clientId !== undefined && secret === undefined && !basic && options.allowPublic) {
      return this.publicClient(clientId);
    }
    if (clientId === undefined || secret === undefined) {
      throw OauthErrors.invalidClient('client_credentials_missing');
    }
    const client = await this.clients.authenticate(clientId, secret);
    if (!client) throw OauthErrors.invalidClient('client_unknown_or_wrong_secret');
    return client;
  }

  /** A public client (RFC 6749 §2.1) identified by its client_id; any other client needs credentials. */
  private async publicClient(clientId: string): Promise<ClientSnapshot> {
    const client = await this.clients.findByClientId(clientId);
    if (client?.status !== 'ACTIVE' || client.tokenEndpointAuthMethod !== 'none') {
      throw OauthErrors.invalidClient('client_credentials_missing');
    }
    return client;
  }
}

function decodeBasic(header: string): { clientId: string; secret: string } | undefined {
  const b64 = header.replace(/^basic\s*/i, '').trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length > 2048) return undefined;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i <= 0) return undefined;
  try {
    // RFC 6749 §2.3.1: both parts are application/x-www-form-urlencoded before Base64.
    const clientId = decodeURIComponent(text.slice(0, i).replace(/\+/g, ' '));
    const secret = decodeURIComponent(text.slice(i + 1).replace(/\+/g, ' '));
    return clientId && secret ? { clientId, secret } : undefined;
  } catch {
    return undefined;
  }
}
