import type { AppConfig } from 'src/config/config.types';
import {
  grantsScopes,
  insufficientScope,
  requestedResource,
  resourceKindOf,
  scopeOutsideResource,
  wwwAuthenticate,
} from 'src/token-validation/oauth-resources';

const config = {
  publicUrl: 'https://id.example.com',
  oauth: { audience: 'https://api.example.com' },
} as AppConfig;

describe('oauth resources', () => {
  it('knows exactly two resources, compared byte for byte', () => {
    expect(resourceKindOf(config, 'https://api.example.com')).toBe('api');
    expect(resourceKindOf(config, 'https://id.example.com/mcp')).toBe('mcp');
    for (const other of [
      'https://id.example.com/mcp/',
      'https://id.example.com/MCP',
      'https://id.example.com',
    ]) {
      expect(resourceKindOf(config, other)).toBeUndefined();
    }
    expect(requestedResource(config, undefined)).toBe('api');
    expect(requestedResource(config, undefined, 'mcp')).toBe('mcp');
    expect(requestedResource(config, 'https://evil.example.com')).toBe('invalid');
  });

  it('keeps MCP scopes to the MCP resource', () => {
    expect(scopeOutsideResource('api', ['reports', 'mcp:write'])).toBe('mcp:write');
    expect(scopeOutsideResource('mcp', ['mcp:read', 'mcp:write'])).toBeUndefined();
    expect(grantsScopes('mcp:read mcp:write', ['mcp:write'])).toBe(true);
    expect(grantsScopes('mcp:read', ['mcp:write'])).toBe(false);
    expect(grantsScopes('', ['mcp:read'])).toBe(false);
  });

  it('builds RFC 9728 / RFC 6750 challenges', () => {
    expect(wwwAuthenticate(config, 'mcp')).toBe(
      'Bearer resource_metadata="https://id.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:read mcp:write"',
    );
    expect(wwwAuthenticate(config, 'api', { error: 'invalid_token' })).toBe(
      'Bearer resource_metadata="https://id.example.com/.well-known/oauth-protected-resource", error="invalid_token"',
    );
    const denied = insufficientScope(['mcp:write']);
    expect(denied.status).toBe(403);
    expect(wwwAuthenticate(config, 'mcp', denied.challenge)).toBe(
      'Bearer resource_metadata="https://id.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:write", error="insufficient_scope", error_description="The token lacks the scope this needs: mcp:write"',
    );
    // Nothing a caller controls can break out of a quoted value.
    expect(wwwAuthenticate(config, 'mcp', { description: 'a"b\\c\r\nd' })).toContain(
      'error_description="abcd"',
    );
  });
});
