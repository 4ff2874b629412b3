/** OIDC Core §3.1.2.1: the scope that makes a request an OpenID sign-in (and brings an ID token). */
export const OPENID = 'openid';
/** OIDC Core §11: the scope that brings a refresh token. */
export const OFFLINE_ACCESS = 'offline_access';
/** Scopes every code-flow client may ask for (OIDC Core §5.4); others must be among the client's own. */
export const OIDC_SCOPES: readonly string[] = [OPENID, 'profile', 'email'];
