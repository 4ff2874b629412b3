import { Injectable } from '@nestjs/common';
import type { TrustedIssuerConfig } from 'src/config/config.types';
import { OutboundError, OutboundHttpService } from 'src/outbound/outbound-http.service';
import { extractClaims, type TokenClaims } from 'src/token-validation/token-claims';
import {
  TokenErrorCode,
  invalidToken,
  issuerUnavailable,
} from 'src/token-validation/token-validation.errors';

/** Userinfo answers are trusted for at most this long (and never past the token's `exp`). */
export const USERINFO_MAX_TTL_SECONDS = 3600;

/**
 * Validates a token by calling its issuer's userinfo endpoint with it (Medplum's
 * `externalAuthProviders`; SECURITY.md rule 7). The token only ever goes to the issuer its own `iss`
 * names (or, for an opaque token, to the single issuer configured to accept them). The identity comes
 * from the answer; a JWT's `sub` must agree with it. The IdP refusing the token is a 401; the IdP
 * failing (unreachable, 5xx, 429, garbage) is a 503.
 */
@Injectable()
export class UserinfoValidatorService {
  constructor(private readonly http: OutboundHttpService) {}

  async validate(
    token: string,
    issuer: TrustedIssuerConfig,
    jwtPayload?: Record<string, unknown>,
  ): Promise<TokenClaims> {
    const now = Math.floor(Date.now() / 1000);
    let exp = now + USERINFO_MAX_TTL_SECONDS;
    if (jwtPayload) {
      // Unverified, but good enough to refuse early: never send an expired token to the IdP.
      const jwtExp = jwtPayload.exp;
      if (typeof jwtExp !== 'number')
        throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'claim_exp');
      if (jwtExp + issuer.clockToleranceSeconds <= now)
        throw invalidToken(TokenErrorCode.TOKEN_EXPIRED, 'expired');
      const nbf = jwtPayload.nbf;
      if (typeof nbf === 'number' && nbf - issuer.clockToleranceSeconds > now)
        throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'claim_nbf');
      exp = Math.min(exp, jwtExp);
    }
    let res;
    try {
      res = await this.http.request(issuer.userinfoUrl!, {
        headers: { authorization: `Bearer ${token}` },
      });
    } catch (err) {
      const failure = err instanceof OutboundError ? err.failure : 'network';
      throw issuerUnavailable(`userinfo_${failure}`, err);
    }
    if (res.status >= 500 || res.status === 429) throw issuerUnavailable(`userinfo_${res.status}`);
    if (res.status !== 200)
      throw invalidToken(TokenErrorCode.TOKEN_SIGNATURE_INVALID, 'userinfo_refused');
    let body: unknown;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw issuerUnavailable('userinfo_not_json');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw issuerUnavailable('userinfo_not_object');
    const answer = body as Record<string, unknown>;
    if (jwtPayload && typeof jwtPayload.sub === 'string' && jwtPayload.sub !== answer.sub) {
      throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'userinfo_sub_mismatch');
    }
    // Identity and profile from the IdP's answer; exp/iat only bound how long we trust it.
    return extractClaims({ ...answer, exp, iat: now });
  }
}
