import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { SigningKeysService } from 'src/signing-keys/signing-keys.service';
import { type ResourceKind, resourceAudience } from 'src/token-validation/oauth-resources';
import { ACCESS_TOKEN_TYP } from 'src/token-validation/own-tokens';
import type { ActorClaim } from 'src/token-validation/token-claims';

export interface AccessTokenRequest {
  /** Actor id (a person), or the client's own client_id (client credentials). */
  sub: string;
  clientId: string;
  scope: string[];
  /** The grant this token belongs to, when it has one. */
  sid?: string;
  membership?: string;
  project?: string;
  /** The token must not outlive this (seconds since the epoch), e.g. the subject token of an exchange. */
  notAfter?: number;
  /** RFC 8707: the resource the token is for, its `aud` (the API by default). */
  resource?: ResourceKind;
  /** RFC 8693 §4.1: who acts for `sub` (a delegated token). */
  act?: ActorClaim;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
  exp: number;
  scope: string[];
}

/**
 * Mints Bridgekeeper access tokens (RFC 9068): `typ: at+jwt`, `iss` = the public URL (the issuer in our
 * discovery document), our `aud`, `sub`, `client_id`, `iat`, `exp`, a random `jti`, `scope`. Signed with
 * the current signing key; no database work, so it stays cheap on the token endpoint's hot path.
 */
@Injectable()
export class AccessTokensService {
  constructor(
    private readonly keys: SigningKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async issue(req: AccessTokenRequest): Promise<IssuedAccessToken> {
    const iat = Math.floor(Date.now() / 1000);
    let exp = iat + this.config.oauth.accessTokenTtlSeconds;
    if (req.notAfter !== undefined) exp = Math.min(exp, req.notAfter);
    const jti = randomBytes(16).toString('base64url');
    const payload: Record<string, unknown> = {
      iss: this.config.publicUrl,
      aud: resourceAudience(this.config, req.resource ?? 'api'),
      sub: req.sub,
      client_id: req.clientId,
      iat,
      exp,
      jti,
      scope: req.scope.join(' '),
    };
    if (req.sid) payload.sid = req.sid;
    if (req.membership) payload.membership = req.membership;
    if (req.project) payload.project = req.project;
    if (req.act) payload.act = req.act;
    const { token } = await this.keys.sign(payload, ACCESS_TOKEN_TYP);
    return { token, jti, exp, expiresIn: exp - iat, scope: req.scope };
  }
}
