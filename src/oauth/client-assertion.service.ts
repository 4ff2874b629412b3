import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { createLocalJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { CacheKeys } from 'src/cache/cache-keys';
import { CacheService } from 'src/cache/cache.service';
import { CLIENT_ASSERTION_ALGORITHMS } from 'src/clients/client-jwks';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import { ClientsService } from 'src/clients/clients.service';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { OauthErrors } from 'src/oauth/oauth.errors';
import { parseCompactJws, type UnverifiedJws } from 'src/token-validation/jwt-format';

/** RFC 7523 §2.2: the only assertion type we accept. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** An assertion may live at most this long (`exp` after `iat`, and after now). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 60;
const MAX_JTI_LENGTH = 256;
const MAX_CLIENT_ID_LENGTH = 128;
/** Bound on the per-node cache of clients' imported key sets. */
const MAX_KEY_SETS = 10_000;

interface CachedKeySet {
  /** SHA-256 of the stored JWKS: a rotated key set replaces the cached one at once. */
  hash: string;
  keys: JWTVerifyGetKey;
}

/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, OIDC Core §9): a compact JWS signed with a
 * key of the client's registered JWKS (never fetched: no jwks_uri), `iss` = `sub` = client_id, `aud` our
 * token endpoint or our issuer, short-lived, and each `jti` usable once until it expires. Every failure
 * is the same `invalid_client`; the reason is a fixed label for the logs only.
 */
@Injectable()
export class ClientAssertionService {
  private readonly keySets = new LRUCache<string, CachedKeySet>({ max: MAX_KEY_SETS });
  private readonly audiences: string[];

  constructor(
    private readonly clients: ClientsService,
    private readonly cache: CacheService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // OIDC Core §9 names the token endpoint URL; RFC 7523 allows the issuer: both are ours.
    this.audiences = [`${config.publicUrl}/oauth2/token`, config.publicUrl];
  }

  async authenticate(assertion: string, formClientId: string | undefined): Promise<ClientSnapshot> {
    let jws: UnverifiedJws;
    try {
      // Compact JWS only, at most 8 KiB, no JWE, no `crit`, no nested JWT, no `alg: none`.
      jws = parseCompactJws(assertion);
    } catch {
      throw fail('assertion_malformed');
    }
    if (!(CLIENT_ASSERTION_ALGORITHMS as readonly unknown[]).includes(jws.header.alg)) {
      throw fail('assertion_alg_refused');
    }
    // The unverified `iss` is only a lookup key (SECURITY.md rule 1): the client's own keys decide.
    const { iss, sub } = jws.payload;
    if (typeof iss !== 'string' || iss.length === 0 || iss.length > MAX_CLIENT_ID_LENGTH) {
      throw fail('assertion_iss_missing');
    }
    if (sub !== iss) throw fail('assertion_sub_not_iss');
    if (formClientId !== undefined && formClientId !== iss)
      throw fail('assertion_client_id_mismatch');
    const client = await this.clients.findByClientId(iss);
    if (!client) throw fail('assertion_client_unknown');
    if (client.tokenEndpointAuthMethod !== 'private_key_jwt' || !client.jwks) {
      throw fail('assertion_for_secret_client');
    }
    if (client.status !== 'ACTIVE') throw fail('assertion_client_disabled');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, this.keySet(client), {
        issuer: client.clientId,
        subject: client.clientId,
        audience: this.audiences,
        algorithms: [...CLIENT_ASSERTION_ALGORITHMS],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
      }));
    } catch {
      // Any library error (bad signature, unknown kid, wrong aud, expired, a TypeError) is a 401.
      throw fail('assertion_invalid');
    }
    // One audience only: an assertion also addressed elsewhere could be replayed there or here.
    if (Array.isArray(payload.aud) && payload.aud.length !== 1) throw fail('assertion_multi_aud');
    const now = Math.floor(Date.now() / 1000);
    const exp = payload.exp!;
    if (exp > now + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
      throw fail('assertion_too_long_lived');
    }
    if (payload.iat !== undefined) {
      if (payload.iat > now + CLOCK_TOLERANCE_SECONDS) throw fail('assertion_iat_in_future');
      if (exp - payload.iat > MAX_ASSERTION_LIFETIME_SECONDS)
        throw fail('assertion_too_long_lived');
    }
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
      throw fail('assertion_bad_jti');
    }
    // Replay protection: the jti is claimed until the assertion can no longer be accepted anyway.
    const ttlMs = (exp + CLOCK_TOLERANCE_SECONDS - now + 1) * 1000;
    const first = await this.cache.setIfAbsent(
      CacheKeys.clientAssertionJti(client.clientId, jti),
      1,
      ttlMs,
    );
    if (!first) throw fail('assertion_replayed');
    return client;
  }

  /** The client's key set, imported once per stored JWKS (a rotation changes the hash). */
  private keySet(client: ClientSnapshot): JWTVerifyGetKey {
    const hash = createHash('sha256').update(JSON.stringify(client.jwks)).digest('base64url');
    const cached = this.keySets.get(client.id);
    if (cached?.hash === hash) return cached.keys;
    const keys = createLocalJWKSet({ keys: client.jwks!.keys as unknown as JsonWebKeys });
    this.keySets.set(client.id, { hash, keys });
    return keys;
  }
}

type JsonWebKeys = Parameters<typeof createLocalJWKSet>[0]['keys'];

function fail(reason: string) {
  return OauthErrors.invalidClient(reason);
}
