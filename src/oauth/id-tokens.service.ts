import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { compactVerify } from 'jose';
import { AppError } from 'src/common/errors/app-error';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { SigningKeysService } from 'src/signing-keys/signing-keys.service';
import { parseCompactJws } from 'src/token-validation/jwt-format';

/** OIDC Core §2: an ID token's `typ` is plain JWT, never `at+jwt`, so it is refused as an access token. */
export const ID_TOKEN_TYP = 'JWT';

/** What an `id_token_hint` tells end_session, once its signature and issuer are verified. */
export interface IdTokenHint {
  sub: string;
  clientId: string;
  /** The browser session the ID token was issued in. */
  sid?: string;
}

export interface IdTokenRequest {
  /** The actor id. */
  sub: string;
  clientId: string;
  /** The browser session's public id. */
  sid: string;
  /** Seconds since the epoch. */
  authTime: number;
  amr: string[];
  nonce?: string;
  /** The access token issued alongside, for `at_hash`. */
  accessToken?: string;
}

/**
 * Mints OpenID Connect ID tokens (Core §2): `typ: JWT`, `iss` = our public URL, `sub` = the actor id,
 * `aud` = `azp` = the client, `exp`, `iat`, `auth_time`, `nonce`, `sid`, `amr`, `at_hash`. Signed with
 * the same keys as access tokens (published at the JWKS endpoint); the typ keeps the two apart.
 */
@Injectable()
export class IdTokensService {
  constructor(
    private readonly keys: SigningKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async issue(req: IdTokenRequest): Promise<string> {
    const iat = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.config.publicUrl,
      sub: req.sub,
      aud: req.clientId,
      azp: req.clientId,
      iat,
      exp: iat + this.config.oauth.idTokenTtlSeconds,
      auth_time: req.authTime,
      sid: req.sid,
      amr: req.amr,
    };
    if (req.nonce !== undefined) payload.nonce = req.nonce;
    // ES256 and RS256 (our only algorithms) both hash with SHA-256: the left half, base64url.
    if (req.accessToken !== undefined) {
      payload.at_hash = createHash('sha256')
        .update(req.accessToken, 'ascii')
        .digest()
        .subarray(0, 16)
        .toString('base64url');
    }
    return (await this.keys.sign(payload, ID_TOKEN_TYP)).token;
  }

  /**
   * An `id_token_hint` for RP-initiated logout (RP-Initiated Logout 1.0 §2): one of our ID tokens
   * (`typ: JWT`; an access token is refused), signed by one of our keys, our `iss`, a single audience.
   * An expired one is accepted (the RP may log out long after sign-in); its signature never is skipped.
   * Undefined when it is not such a token.
   */
  async verifyHint(token: string): Promise<IdTokenHint | undefined> {
    let header: Record<string, unknown>;
    try {
      header = parseCompactJws(token).header;
    } catch (err) {
      if (err instanceof AppError) return undefined;
      throw err;
    }
    if (header.typ !== ID_TOKEN_TYP || typeof header.kid !== 'string') return undefined;
    // A key that cannot be looked up now (database down) is not "no such key": that propagates (503).
    const key = await this.keys.verificationKey(header.kid);
    if (!key || header.alg !== key.alg) return undefined;
    let payload: Record<string, unknown>;
    try {
      const verified = await compactVerify(token, key.key, { algorithms: [key.alg] });
      payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const { iss, sub, aud, sid } = payload;
    if (iss !== this.config.publicUrl || typeof sub !== 'string' || typeof aud !== 'string') {
      return undefined;
    }
    return { sub, clientId: aud, ...(typeof sid === 'string' ? { sid } : {}) };
  }
}
