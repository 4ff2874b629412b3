/** OIDC Core §3.1.2.1: the scope that makes a request an OpenID sign-in (and brings an ID token). */
export const OPENID = 'openid';
/** OIDC Core §11: the scope that brings a refresh token. */
export const OFFLINE_ACCESS = 'offline_access';
/** Scopes every code-flow client may ask for (OIDC Core §5.4); others must be among the client's own. */
export const OIDC_SCOPES: readonly string[] = [OPENID, 'profile', 'email'];

/** What each scope lets the application do, in words (others are shown by name). */
export const SCOPE_WORDS: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay signed in until you sign out or revoke it',
  'mcp:read': 'Read through Bridgekeeper’s MCP tools (as you)',
  'mcp:write': 'Make changes through Bridgekeeper’s MCP tools (as you)',
};
