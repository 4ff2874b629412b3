/**
 * How long anyone may cache our JWKS (`Cache-Control` of `GET /.well-known/jwks.json`). The rotation
 * rule depends on it: a NEXT key is promoted only once it has been published at least this long.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

export const JWKS_CACHE_CONTROL = `public, max-age=${JWKS_MAX_AGE_SECONDS}`;

/**
 * Beyond the JWKS max-age before a NEXT key may sign: a node that missed the cluster message publishes
 * a new NEXT key at its catch-up reload (within 60 s), plus clock skew between relying parties and us.
 */
export const NEXT_KEY_PUBLISH_MARGIN_SECONDS = 120;

/** A NEXT key is promoted to ACTIVE on schedule only once it has been published this long. */
export const NEXT_KEY_MIN_PUBLISHED_SECONDS =
  JWKS_MAX_AGE_SECONDS + NEXT_KEY_PUBLISH_MARGIN_SECONDS;
