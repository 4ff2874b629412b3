import type { AppConfig } from 'src/config/config.types';

/**
 * The protected resources Bridgekeeper issues tokens for (RFC 8707) and describes (RFC 9728): its own
 * API (the configured audience, `bridgekeeper.oauth.audience`) and its MCP endpoint (`<public url>/mcp`).
 * A token's `aud` is exactly one of them; the API accepts only API-audience tokens and `/mcp` only
 * MCP-audience ones, so a token handed to an MCP server can never be replayed against the API.
 */
export type ResourceKind = 'api' | 'mcp';

/** The path of the MCP endpoint; the MCP resource is the public URL with it. */
export const MCP_PATH = '/mcp';
/** Read-only MCP tools (whoami, listing, searching). */
export const MCP_READ_SCOPE = 'mcp:read';
/** MCP tools that change something (invite, disable, revoke sessions). Implies nothing else. */
export const MCP_WRITE_SCOPE = 'mcp:write';
export const MCP_SCOPES: readonly string[] = [MCP_READ_SCOPE, MCP_WRITE_SCOPE];

/** RFC 9728 §3: where a resource's metadata lives, relative to the public URL. */
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/** The MCP resource identifier: `<public url>/mcp` (the canonical URI MCP clients send). */
export function mcpResource(config: AppConfig): string {
  return `${config.publicUrl}${MCP_PATH}`;
}

/** The `aud` of tokens for a resource. */
export function resourceAudience(config: AppConfig, kind: ResourceKind): string {
  return kind === 'mcp' ? mcpResource(config) : config.oauth.audience;
}

/** Every audience our own tokens may carry (what our validation accepts before the per-route check). */
export function ownAudiences(config: AppConfig): string[] {
  return [config.oauth.audience, mcpResource(config)];
}

/** The allow-list, for error messages. */
export function allowedResourcesText(config: AppConfig): string {
  return ownAudiences(config).join(' or ');
}

/** The resource an `aud` (or a requested `resource`) names, compared exactly; undefined if none. */
export function resourceKindOf(
  config: AppConfig,
  value: string | undefined,
): ResourceKind | undefined {
  if (value === undefined) return undefined;
  if (value === config.oauth.audience) return 'api';
  if (value === mcpResource(config)) return 'mcp';
  return undefined;
}

/**
 * The resource a token request targets (RFC 8707 §2): the `resource` parameter, or `fallback` when
 * absent. `invalid` when it names anything outside the allow-list (the caller answers `invalid_target`).
 */
export function requestedResource(
  config: AppConfig,
  resource: string | undefined,
  fallback: ResourceKind = 'api',
): ResourceKind | 'invalid' {
  if (resource === undefined) return fallback;
  return resourceKindOf(config, resource) ?? 'invalid';
}

/** Whether a scope belongs to the MCP resource (granted only on tokens whose audience is `/mcp`). */
export function isMcpScope(scope: string): boolean {
  return MCP_SCOPES.includes(scope);
}

/** A scope list fits a resource: MCP scopes only on MCP tokens. Returns the offending scope, if any. */
export function scopeOutsideResource(kind: ResourceKind, scopes: string[]): string | undefined {
  return kind === 'mcp' ? undefined : scopes.find(isMcpScope);
}

/** Whether a token's space-separated scope grants every `needed` scope. */
export function grantsScopes(tokenScope: string, needed: readonly string[]): boolean {
  const granted = new Set(tokenScope.split(' '));
  return needed.every((s) => granted.has(s));
}

/** The URL of a resource's RFC 9728 metadata document. */
export function resourceMetadataUrl(config: AppConfig, kind: ResourceKind): string {
  return `${config.publicUrl}${PROTECTED_RESOURCE_METADATA_PATH}${kind === 'mcp' ? MCP_PATH : ''}`;
}

/** RFC 9728 §2: the protected-resource metadata of one resource. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name: string;
}

/** The API's scopes are each client's own (free-form), so only the MCP resource lists its scopes. */
export function protectedResourceMetadata(
  config: AppConfig,
  kind: ResourceKind,
): ProtectedResourceMetadata {
  return {
    resource: resourceAudience(config, kind),
    authorization_servers: [config.publicUrl],
    bearer_methods_supported: ['header'],
    ...(kind === 'mcp' ? { scopes_supported: [...MCP_SCOPES] } : {}),
    resource_name: kind === 'mcp' ? 'Bridgekeeper MCP server' : 'Bridgekeeper API',
  };
}

/** Characters allowed in an RFC 6750 §3 auth-param quoted value we build (no quote, no backslash). */
function quoted(value: string): string {
  return `"${value.replace(/["\\\r\n]/g, '')}"`;
}

export interface BearerChallenge {
  /** RFC 6750 §3.1: `invalid_token` (401) or `insufficient_scope` (403); absent: no credentials. */
  error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request';
  /** A fixed, safe sentence (never a token or a claim value). */
  description?: string;
  /** The scopes the request needs (or, for a 401, the scopes to ask for). */
  scope?: readonly string[];
}

/**
 * The `WWW-Authenticate` value of a 401 or 403 from a protected resource (RFC 6750 §3, RFC 9728 §5.1):
 * `Bearer resource_metadata="…", scope="…"` plus the error, so an MCP client can find the
 * authorization server and the scopes to ask for.
 */
export function wwwAuthenticate(
  config: AppConfig,
  kind: ResourceKind,
  challenge: BearerChallenge = {},
): string {
  const params = [`resource_metadata=${quoted(resourceMetadataUrl(config, kind))}`];
  const scope = challenge.scope ?? (kind === 'mcp' ? MCP_SCOPES : []);
  if (scope.length > 0) params.push(`scope=${quoted(scope.join(' '))}`);
  if (challenge.error) params.push(`error=${quoted(challenge.error)}`);
  if (challenge.description) params.push(`error_description=${quoted(challenge.description)}`);
  return `Bearer ${params.join(', ')}`;
}

/** The body of a 403 for a missing scope (RFC 6750 §3.1), to send with `wwwAuthenticate(...)`. */
export function insufficientScope(needed: readonly string[]): {
  status: 403;
  challenge: BearerChallenge;
  body: { error: 'insufficient_scope'; error_description: string; scope: string };
} {
  const description = `The token lacks the scope this needs: ${needed.join(' ')}`;
  return {
    status: 403,
    challenge: { error: 'insufficient_scope', description, scope: needed },
    body: { error: 'insufficient_scope', error_description: description, scope: needed.join(' ') },
  };
}
