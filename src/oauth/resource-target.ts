import type { AppConfig } from 'src/config/config.types';
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
