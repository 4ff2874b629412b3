/**
 * The error codes of RFC 6749 §5.2, RFC 7009 and RFC 8693 that our endpoints answer with. These errors
 * are only ever rendered by the OAuth exception filter, as `{ error, error_description }`.
 */
export type OauthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  // RFC 8628 §3.5 (device authorization grant polling); `slow_down` is also a rate limit's answer
  // (429 with Retry-After).
  | 'authorization_pending'
  | 'slow_down'
  | 'access_denied'
  | 'expired_token';

export class OauthError extends Error {
  constructor(
    readonly error: OauthErrorCode,
    readonly description: string,
    /** Internal, fixed label for logs and metrics; never sent. */
    readonly reason: string = error,
    /** Set on `slow_down`: seconds until the caller may try again (`Retry-After`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(description);
    this.name = 'OauthError';
  }

  get status(): number {
    // A rate limit's slow_down is a 429 with Retry-After; a device polling too fast (RFC 8628 §3.5,
    // no Retry-After) is a 400 like the other polling answers.
    if (this.error === 'slow_down' && this.retryAfterSeconds !== undefined) return 429;
    return this.error === 'invalid_client' ? 401 : 400;
  }
}

export const OauthErrors = {
  invalidRequest: (why: string) => new OauthError('invalid_request', why),
  invalidClient: (reason: string) =>
    new OauthError('invalid_client', 'Client authentication failed', reason),
  invalidGrant: (reason: string, description = 'The grant is invalid, expired or revoked') =>
    new OauthError('invalid_grant', description, reason),
  unauthorizedClient: (why: string) => new OauthError('unauthorized_client', why),
  unsupportedGrantType: () =>
    new OauthError('unsupported_grant_type', 'This grant type is not supported'),
  invalidScope: (why = 'The requested scope exceeds what the client may be granted') =>
    new OauthError('invalid_scope', why),
  invalidTarget: (why: string) => new OauthError('invalid_target', why),
  unsupportedTokenType: (why: string) => new OauthError('unsupported_token_type', why),
  slowDown: (limit: string, retryAfterSeconds: number) =>
    new OauthError(
      'slow_down',
      `Too many requests; try again in ${retryAfterSeconds} seconds`,
      limit,
      retryAfterSeconds,
    ),
};
