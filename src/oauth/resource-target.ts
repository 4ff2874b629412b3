import type { ClientSnapshot } from 'src/clients/client-snapshot';
import type { AppConfig } from 'src/config/config.types';
import { OFFLINE_ACCESS, OIDC_SCOPES } from 'src/oauth/scopes';
import { OauthErrors } from 'src/oauth/oauth.errors';
import {
  MCP_SCOPES,
  type ResourceKind,
  allowedResourcesText,
  isMcpScope,
  requestedResource,
  scopeOutsideResource,
} from 'src/token-validation/oauth-resources';

/**
 * RFC 8707 §2 on the token endpoint: the `resource` a request names (one, from the allow-list), or the
 * API when none is given; anything else is `invalid_target`.
 */
export function targetResource(
  config: AppConfig,
  resource: string | undefined,
  fallback: ResourceKind = 'api',
): ResourceKind {
  const kind = requestedResource(config, resource, fallback);
  if (kind === 'invalid') {
    throw OauthErrors.invalidTarget(`resource must be one of ${allowedResourcesText(config)}`);
  }
  return kind;
}

/**
 * The scopes a token for `kind` may carry, given what the client may otherwise be granted: the MCP
 * scopes are added on the MCP resource (every client may ask for them there: the tools a token reaches
 * are still bounded by its actor's roles and memberships).
 */
export function scopesForResource(kind: ResourceKind, allowed: readonly string[]): string[] {
  return kind === 'mcp' ? [...new Set([...allowed, ...MCP_SCOPES])] : [...allowed];
}

/** The scope granted when a request asks for none: the MCP scopes on the MCP resource. */
export function defaultScopeFor(kind: ResourceKind, allowed: readonly string[]): string[] {
  return kind === 'mcp' ? [...MCP_SCOPES] : allowed.filter((s) => !isMcpScope(s));
}

/** `invalid_scope` for an MCP scope asked for on the API (the client forgot `resource`). */
export function assertScopeFitsResource(kind: ResourceKind, scopes: string[]): void {
  const outside = scopeOutsideResource(kind, scopes);
  if (outside !== undefined) {
    throw OauthErrors.invalidScope(
      `${outside} is a scope of the MCP resource: send resource=<public url>/mcp`,
    );
  }
}

/**
 * The scopes a person is asked to grant a client (authorization and device requests): `openid`,
 * `profile`, `email`, the client's own scopes, `offline_access` when the client may hold refresh
 * tokens, and the MCP scopes for the MCP resource; or why they cannot be granted.
 */
export function checkedPersonScope(
  client: ClientSnapshot,
  scopeParam: string | undefined,
  resource: ResourceKind,
): string[] | string {
  if (scopeParam === undefined) return 'scope is required (openid for sign-in)';
  const scopes = [...new Set(scopeParam.split(' ').filter((s) => s.length > 0))];
  if (scopes.length === 0 || scopes.length > 50) return 'scope is not a list of scope tokens';
  const outside = scopeOutsideResource(resource, scopes);
  if (outside !== undefined) {
    return `${outside} is a scope of the MCP resource: send resource=<public url>/mcp`;
  }
  const own = scopesForResource(resource, client.scopes);
  for (const s of scopes) {
    const allowed =
      s === OFFLINE_ACCESS
        ? client.grantTypes.includes('refresh_token') && client.scopes.includes(OFFLINE_ACCESS)
        : OIDC_SCOPES.includes(s) || own.includes(s);
    if (!allowed) return 'The requested scope exceeds what the client may be granted';
  }
  return scopes;
}
