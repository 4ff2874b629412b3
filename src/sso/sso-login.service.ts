import { AuditService } from 'src/audit/audit.service';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors as joseErrors, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import type { Repository } from 'typeorm';
import type { ActorSnapshot } from 'src/actors/actor-snapshot';
import { ActorsService } from 'src/actors/actors.service';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import type { ProfileClaims } from 'src/common/auth/profile-claims';
import { sha256Base64url } from 'src/common/crypto/sha256';
import { AppError } from 'src/common/errors/app-error';
import { dbCall } from 'src/common/errors/db-errors';
import { cookieName, readCookie, setCookie } from 'src/common/html/cookies';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig, TrustedIssuerConfig } from 'src/config/config.types';
import { IssuersService } from 'src/issuers/issuers.service';
import { MetricsService } from 'src/metrics/metrics.service';
import { OutboundError, OutboundHttpService } from 'src/outbound/outbound-http.service';
import { SecretsService } from 'src/secrets/secrets.service';
import { ActorAttributesEntity } from 'src/sso/actor-attributes.entity';
import { SsoPendingEntity } from 'src/sso/sso-pending.entity';
import { type SsoProvider, SsoProvidersService } from 'src/sso/sso-providers.service';
import { SsoSessionEntity } from 'src/sso/sso-session.entity';
import { JwksService } from 'src/token-validation/jwks.service';

/** A sign-in that could not finish: the page the person sees (never a token, secret or claim value). */
export class SsoRefusal extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    /** For logs only. */
    readonly reason: string,
  ) {
    super(detail);
    this.name = 'SsoRefusal';
  }
}

const SSO_COOKIE = 'bk_sso';
/** How long a sign-in at the provider may take. */
const PENDING_SECONDS = 600;
/** A provider's discovery document is fetched again after this long (or after a change). */
const DISCOVERY_TTL_MS = 60 * 60_000;
const MAX_PARAM = 512;

const expired = () =>
  new SsoRefusal(
    400,
    'This sign-in has expired',
    'This sign-in link was already used or has expired. Go back to the application and start again.',
    'pending_missing',
  );

/**
 * Sign-in through an external OpenID provider as a relying party (issue 9 §4), with `openid-client`'s
 * functions and its fetch routed through the outbound HTTP policy (SSRF rules, timeout, size cap). The
 * flow in flight lives in PostgreSQL under the SHA-256 of a cookie only this browser holds (single use,
 * any node, Redis or not); `state`, PKCE S256 and `nonce` are all checked, and the ID token is verified
 * again with the keys of the trusted issuer the provider is, so the person signed in is exactly the
 * `(issuer, sub)` actor the provider's API tokens map to.
 */
@Injectable()
export class SsoLoginService {
  private readonly cookieName: string;
  private readonly secure: boolean;
  private readonly discovered = new Map<
    string,
    { at: number; config: Promise<oidc.Configuration> }
  >();

  constructor(
    private readonly audit: AuditService,
    private readonly providers: SsoProvidersService,
    private readonly issuers: IssuersService,
    private readonly jwks: JwksService,
    private readonly actors: ActorsService,
    private readonly sessions: BrowserSessionsService,
    private readonly outbound: OutboundHttpService,
    private readonly secrets: SecretsService,
    private readonly metrics: MetricsService,
    @InjectRepository(SsoPendingEntity) private readonly pending: Repository<SsoPendingEntity>,
    @InjectRepository(SsoSessionEntity) private readonly ssoSessions: Repository<SsoSessionEntity>,
    @InjectRepository(ActorAttributesEntity)
    private readonly attributes: Repository<ActorAttributesEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.cookieName = cookieName(SSO_COOKIE, config.publicUrl);
    this.secure = config.publicUrl.startsWith('https://');
  }

  /**
   * Starts a sign-in at `provider`: the URL to send the browser to, with the allow-listed parameters of
   * `given` (our login URL's query, then the pending authorization request's) passed on.
   */
  async start(
    reply: FastifyReply,
    provider: SsoProvider,
    returnTo: string | undefined,
    given: (name: string) => string | undefined,
  ): Promise<string> {
    const config = await this.configuration(provider);
    const key = randomBytes(32).toString('base64url');
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const keySha256 = sha256Base64url(key);
    await dbCall(() =>
      this.pending.insert({
        keySha256,
        kind: 'login',
        providerId: provider.id,
        state,
        nonce,
        codeVerifierEnc: this.secrets.encrypt(verifier, `sso_pending:${keySha256}`),
        returnTo: returnTo ?? null,
        expiresAt: new Date(Date.now() + PENDING_SECONDS * 1000),
      }),
    );
    void this.purgeExpired();
    const params: Record<string, string> = {};
    for (const name of provider.forwardParams) {
      const v = given(name);
      if (v !== undefined && v !== '' && v.length <= MAX_PARAM) params[name] = v;
    }
    const url = oidc.buildAuthorizationUrl(config, {
      ...params,
      redirect_uri: this.providers.callbackUrl(provider.name),
      scope: provider.scopes.join(' '),
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    setCookie(reply, this.cookieName, key, {
      secure: this.secure,
      maxAgeSeconds: PENDING_SECONDS,
    });
    this.logger.info(
      { event: 'login.sso_started', provider: provider.name, reqId: reply.request.id },
      'sign-in sent to an SSO provider',
    );
    return url.href;
  }

  /**
   * The provider's answer at our callback: checks it, signs the actor in (a new browser session) and
   * returns where to continue (the pending authorization request, or undefined). Throws `SsoRefusal`.
   */
  async callback(
    request: FastifyRequest,
    reply: FastifyReply,
    provider: SsoProvider | undefined,
  ): Promise<string | undefined> {
    const key = readCookie(request, this.cookieName);
    setCookie(reply, this.cookieName, '', { secure: this.secure, maxAgeSeconds: 0 });
    if (!key) throw expired();
    const rows = await dbCall(
      () =>
        this.pending.query(
          `DELETE FROM sso_pending WHERE key_sha256 = $1 AND kind = 'login'
        RETURNING key_sha256, provider_id, state, nonce, code_verifier_enc, return_to, expires_at`,
          [sha256Base64url(key)],
        ) as Promise<[PendingRow[], number] | PendingRow[]>,
    );
    const list = Array.isArray(rows[0]) ? (rows[0] as PendingRow[]) : (rows as PendingRow[]);
    const p = list[0];
    if (!p || new Date(p.expires_at).getTime() <= Date.now()) throw expired();
    if (!provider || provider.id !== p.provider_id) {
      throw new SsoRefusal(
        400,
        'Sign-in refused',
        'This answer does not come from the provider the sign-in was started with. Start again.',
        'provider_mismatch',
      );
    }
    const query = new URL(request.url, this.config.publicUrl).searchParams;
    const error = query.get('error');
    if (error !== null) {
      const code = /^[\x20-\x7e]{1,64}$/.test(error) ? error : 'error';
      throw new SsoRefusal(
        400,
        'Sign-in not completed',
        `${provider.displayName} did not sign you in (${code}). Go back to the application and try again.`,
        `provider_error:${code.slice(0, 40)}`,
      );
    }
    const state = query.get('state') ?? '';
    if (!p.state || !sameString(state, p.state)) {
      throw new SsoRefusal(
        400,
        'Sign-in refused',
        'The answer from the sign-in provider does not match this sign-in (state). Start again.',
        'state_mismatch',
      );
    }
    const config = await this.configuration(provider);
    const verifier = this.secrets.decrypt(p.code_verifier_enc!, `sso_pending:${p.key_sha256}`);
    const current = new URL(this.providers.callbackUrl(provider.name));
    current.search = query.toString();
    let idToken: string;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: verifier,
        expectedState: p.state,
        expectedNonce: p.nonce!,
        idTokenExpected: true,
      });
      if (!tokens.id_token) throw new Error('no id_token');
      idToken = tokens.id_token;
    } catch (err) {
      throw this.providerFailure(provider, err);
    }
    const claims = await this.verifyIdToken(provider, idToken, p.nonce!);
    const actor = await this.signIn(provider, claims);
    const session = await this.sessions.start(reply, actor.id, { amr: amrOf(claims) });
    await dbCall(() =>
      this.ssoSessions.insert({
        browserSessionId: session.id,
        providerId: provider.id,
        idTokenEnc: this.secrets.encrypt(idToken, `sso_sessions:${session.id}`),
      }),
    );
    this.metrics.logins.inc({ result: 'success' });
    this.audit.security(
      {
        action: 'login.success',
        actorId: actor.id,
        targetType: 'browser_session',
        targetId: session.id,
        details: { method: 'sso', provider: provider.name },
      },
      request,
    );
    this.logger.info(
      {
        event: 'login.success',
        method: 'sso',
        provider: provider.name,
        reqId: request.id,
        actorId: actor.id,
        sessionId: session.id,
      },
      'signed in',
    );
    return p.return_to ?? undefined;
  }

  /** Counts and logs a refused SSO sign-in (no token, no claim value). */
  refused(request: FastifyRequest, provider: string, reason: string): void {
    this.metrics.logins.inc({ result: 'failure' });
    this.audit.security(
      {
        action: 'login.failure',
        outcome: 'FAILURE',
        actorId: null,
        details: { method: 'sso', provider, reason },
      },
      request,
    );
    this.logger.info(
      { event: 'login.failure', method: 'sso', provider, reason, reqId: request.id },
      'sign-in failed',
    );
  }

  /**
   * For a browser session that came through a provider advertising an `end_session_endpoint`: the URL
   * that signs the person out there too, coming back to us and then to `then` (a client's registered
   * post-logout URI). Undefined otherwise. Call it once the session has ended.
   */
  async upstreamLogout(sessionId: string, then?: string): Promise<string | undefined> {
    const found = await this.upstreamOf(sessionId);
    if (!found) return undefined;
    const { row, provider, config } = found;
    const state = oidc.randomState();
    await dbCall(() =>
      this.pending.insert({
        keySha256: sha256Base64url(state),
        kind: 'logout',
        providerId: provider.id,
        returnTo: then ?? null,
        expiresAt: new Date(Date.now() + PENDING_SECONDS * 1000),
      }),
    );
    await dbCall(() => this.ssoSessions.delete({ browserSessionId: sessionId }));
    const params: Record<string, string> = {
      post_logout_redirect_uri: this.providers.logoutRedirectUrl(provider.name),
      state,
      client_id: provider.clientId,
    };
    if (row.idTokenEnc) {
      params.id_token_hint = this.secrets.decrypt(row.idTokenEnc, `sso_sessions:${sessionId}`);
    }
    this.logger.info(
      { event: 'logout.sso_upstream', provider: provider.name, sessionId },
      'sign-out continues at the SSO provider',
    );
    return oidc.buildEndSessionUrl(config, params).href;
  }

  /** The origin of the provider's end-session endpoint for this session (CSP `form-action`), if any. */
  async upstreamOrigin(sessionId: string): Promise<string | undefined> {
    const found = await this.upstreamOf(sessionId).catch(() => undefined);
    const endpoint = found?.config.serverMetadata().end_session_endpoint;
    return endpoint ? new URL(endpoint).origin : undefined;
  }

  /** Back from the provider's sign-out: where to go next (the client's post-logout URI), if anywhere. */
  async loggedOut(state: unknown): Promise<string | undefined> {
    if (typeof state !== 'string' || state.length === 0 || state.length > MAX_PARAM)
      return undefined;
    const rows = await dbCall(
      () =>
        this.pending.query(
          `DELETE FROM sso_pending WHERE key_sha256 = $1 AND kind = 'logout' AND expires_at > now()
        RETURNING return_to`,
          [sha256Base64url(state)],
        ) as Promise<[{ return_to: string | null }[], number] | { return_to: string | null }[]>,
    );
    const list = Array.isArray(rows[0]) ? (rows[0] as { return_to: string | null }[]) : rows;
    return (list as { return_to: string | null }[])[0]?.return_to ?? undefined;
  }

  private async upstreamOf(sessionId: string) {
    if (!/^[0-9a-f-]{36}$/i.test(sessionId)) return undefined;
    const row = await dbCall(() => this.ssoSessions.findOneBy({ browserSessionId: sessionId }));
    if (!row) return undefined;
    const provider = await this.providers.byId(row.providerId);
    if (!provider) return undefined;
    const config = await this.configuration(provider).catch((err: unknown) => {
      this.logger.warn(
        { provider: provider.name, err: { message: (err as Error).message } },
        'SSO provider unreachable for sign-out',
      );
      return undefined;
    });
    if (!config?.serverMetadata().end_session_endpoint) return undefined;
    return { row, provider, config };
  }

  /** The ID token, verified with the keys of the trusted issuer the provider is (SECURITY rule 2). */
  private async verifyIdToken(
    provider: SsoProvider,
    idToken: string,
    nonce: string,
  ): Promise<Record<string, unknown>> {
    const issuer = this.trustedIssuer(provider);
    try {
      const { payload } = await jwtVerify(idToken, this.jwks.keyResolver(issuer), {
        issuer: issuer.issuer,
        audience: provider.clientId,
        algorithms: issuer.algorithms,
        clockTolerance: issuer.clockToleranceSeconds,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      if (typeof payload.nonce !== 'string' || !sameString(payload.nonce, nonce))
        throw new Error('nonce');
      return payload as Record<string, unknown>;
    } catch (err) {
      if (err instanceof AppError && err.kind === 'UNAVAILABLE') throw err;
      const reason =
        err instanceof joseErrors.JOSEError ? err.code : (err as Error).message.slice(0, 40);
      throw new SsoRefusal(
        400,
        'Sign-in refused',
        `The sign-in from ${provider.displayName} could not be verified. Go back to the application and try again.`,
        `id_token_invalid:${reason}`,
      );
    }
  }

  private trustedIssuer(provider: SsoProvider): TrustedIssuerConfig {
    const issuer = this.issuers.findByIss(provider.authority);
    if (!issuer || !issuer.jwksUrl) {
      throw new SsoRefusal(
        503,
        'Sign-in unavailable',
        `${provider.displayName} is not a trusted issuer any more. Ask an administrator.`,
        'authority_not_trusted',
      );
    }
    return issuer;
  }

  /**
   * The `(issuer, sub)` actor, under the issuer's provisioning rule, its profile from the mapped claims
   * and its attributes from the custom ones. A required claim that is missing is a page naming it.
   */
  private async signIn(
    provider: SsoProvider,
    claims: Record<string, unknown>,
  ): Promise<ActorSnapshot> {
    const m = provider.claims;
    const text = (name: string | null): string | undefined => {
      if (name === null) return undefined;
      const v = claims[name];
      return typeof v === 'string' && v.trim() !== '' ? v : undefined;
    };
    for (const [claim, value] of [
      [m.email, text(m.email)],
      [m.firstName, text(m.firstName)],
    ] as const) {
      if (value === undefined) {
        throw new SsoRefusal(
          400,
          'Sign-in refused',
          `${provider.displayName} did not send the claim "${claim}", which Bridgekeeper needs. Ask an administrator to release it to Bridgekeeper, or to change the claim mapping.`,
          `claim_missing:${claim}`,
        );
      }
    }
    const issuer = this.trustedIssuer(provider);
    const email = text(m.email)!;
    const givenName = text(m.firstName)!;
    const familyName = text(m.lastName);
    const profile: ProfileClaims = {
      email,
      given_name: givenName,
      ...(familyName !== undefined ? { family_name: familyName } : {}),
      name: familyName !== undefined ? `${givenName} ${familyName}` : givenName,
      ...(typeof claims.email_verified === 'boolean'
        ? { email_verified: claims.email_verified }
        : {}),
      ...(typeof claims.preferred_username === 'string'
        ? { preferred_username: claims.preferred_username }
        : {}),
    };
    let actor: ActorSnapshot;
    try {
      actor = await this.actors.resolve(
        issuer.name,
        claims.sub as string,
        profile,
        issuer.provisioning,
        true,
      );
    } catch (err) {
      if (err instanceof AppError && err.kind === 'INVALID_TOKEN') {
        throw new SsoRefusal(
          403,
          'No account here',
          'You signed in, but you have no account in Bridgekeeper yet. Ask an administrator to add you.',
          'not_provisioned',
        );
      }
      throw err;
    }
    if (actor.status !== 'ACTIVE') {
      throw new SsoRefusal(
        403,
        'Account disabled',
        'Your account is disabled. Ask an administrator.',
        'actor_disabled',
      );
    }
    if (m.custom.length > 0) {
      const attributes: Record<string, unknown> = {};
      for (const c of m.custom)
        if (claims[c.claim] !== undefined) attributes[c.attribute] = claims[c.claim];
      await dbCall(() =>
        this.attributes.query(
          `INSERT INTO actor_attributes (actor_id, attributes, updated_at) VALUES ($1, $2, now())
           ON CONFLICT (actor_id) DO UPDATE SET attributes = EXCLUDED.attributes, updated_at = now()`,
          [actor.id, JSON.stringify(attributes)],
        ),
      );
    }
    return actor;
  }

  /** The provider's `Configuration` (discovery through the outbound policy), cached per revision. */
  private configuration(provider: SsoProvider): Promise<oidc.Configuration> {
    const revision = `${provider.id}|${provider.updatedAt?.getTime() ?? 0}`;
    const hit = this.discovered.get(revision);
    if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.config;
    const auth =
      provider.clientSecret === undefined
        ? oidc.None()
        : oidc.ClientSecretBasic(provider.clientSecret);
    const metadata: Partial<oidc.ClientMetadata> =
      provider.clientSecret === undefined ? { token_endpoint_auth_method: 'none' } : {};
    const config = oidc
      .discovery(new URL(provider.authority), provider.clientId, metadata, auth, {
        [oidc.customFetch]: this.fetch,
        execute: provider.authority.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
      })
      .catch((err: unknown) => {
        this.discovered.delete(revision);
        throw this.providerFailure(provider, err);
      });
    for (const k of this.discovered.keys())
      if (k.startsWith(`${provider.id}|`)) this.discovered.delete(k);
    this.discovered.set(revision, { at: Date.now(), config });
    return config;
  }

  /** openid-client's fetch, through the outbound HTTP policy. */
  private readonly fetch: oidc.CustomFetch = async (url, options) => {
    const body = options.body;
    const res = await this.outbound.request(url, {
      method: options.method === 'POST' ? 'POST' : 'GET',
      headers: options.headers,
      ...(body !== undefined && body !== null ? { body: String(body as unknown as string) } : {}),
    });
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (typeof v === 'string') headers.set(k, v);
      else if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    }
    return new Response(res.status === 204 ? null : new Uint8Array(res.body), {
      status: res.status,
      headers,
    });
  };

  private providerFailure(provider: SsoProvider, err: unknown): SsoRefusal | AppError {
    if (err instanceof SsoRefusal || err instanceof AppError) return err;
    const outbound =
      err instanceof OutboundError
        ? err
        : (err as { cause?: unknown }).cause instanceof OutboundError
          ? (err as { cause: OutboundError }).cause
          : undefined;
    if (outbound) {
      return new SsoRefusal(
        502,
        'Sign-in provider unreachable',
        `${provider.displayName} could not be reached. Try again in a moment.`,
        `provider_unreachable:${outbound.failure}`,
      );
    }
    const code =
      (err as { code?: unknown; error?: unknown }).error ?? (err as { code?: unknown }).code;
    return new SsoRefusal(
      400,
      'Sign-in refused',
      `The sign-in from ${provider.displayName} was refused. Go back to the application and try again.`,
      `provider_refused:${typeof code === 'string' ? code.slice(0, 60) : 'unknown'}`,
    );
  }

  private async purgeExpired(): Promise<void> {
    await dbCall(() =>
      this.pending.query(`DELETE FROM sso_pending WHERE expires_at < now() - interval '1 hour'`),
    ).catch(() => undefined);
  }
}

interface PendingRow {
  key_sha256: string;
  provider_id: string;
  state: string | null;
  nonce: string | null;
  code_verifier_enc: string | null;
  return_to: string | null;
  expires_at: Date;
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The provider's `amr` when it sends one, else `fed` (federated). */
function amrOf(claims: Record<string, unknown>): string[] {
  const amr = claims.amr;
  if (Array.isArray(amr) && amr.length > 0 && amr.length <= 10) {
    const ok = amr.filter(
      (x): x is string => typeof x === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(x),
    );
    if (ok.length > 0) return ok;
  }
  return ['fed'];
}
