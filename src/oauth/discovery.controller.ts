import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Public } from 'src/common/decorators/public.decorator';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { CLIENT_ASSERTION_ALGORITHMS } from 'src/clients/client-jwks';
import { CLIENT_AUTH_METHODS, TOKEN_ENDPOINT_AUTH_METHODS } from 'src/oauth/client-auth.service';
import { PKCE_METHOD } from 'src/oauth/pkce';
import {
  GRANT_AUTHORIZATION_CODE,
  GRANT_CLIENT_CREDENTIALS,
  GRANT_DEVICE_CODE,
  GRANT_REFRESH_TOKEN,
  GRANT_TOKEN_EXCHANGE,
} from 'src/oauth/token.service';
import { OFFLINE_ACCESS, OIDC_SCOPES } from 'src/oauth/scopes';
import {
  MCP_SCOPES,
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
} from 'src/token-validation/oauth-resources';

/** The metadata changes only with the configuration: clients may cache it for a few minutes. */
const METADATA_CACHE_CONTROL = 'public, max-age=300';

/**
 * OpenID Provider metadata (OIDC Discovery 1.0 §3) and OAuth 2.0 Authorization Server metadata (RFC
 * 8414): the same document. `issuer` is the public URL, exactly the `iss` of our tokens; only what is
 * implemented is advertised: the code flow with PKCE S256 and RFC 9207 `iss`, ID tokens, RP-initiated
 * logout, and `none` (public clients) at the token endpoint only.
 */
@Controller('.well-known')
export class DiscoveryController {
  private readonly metadata: Record<string, unknown>;
  private readonly apiResource: ProtectedResourceMetadata;
  private readonly mcpResource: ProtectedResourceMetadata;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.apiResource = protectedResourceMetadata(config, 'api');
    this.mcpResource = protectedResourceMetadata(config, 'mcp');
    const base = config.publicUrl;
    this.metadata = {
      issuer: base,
      authorization_endpoint: `${base}/oauth2/authorize`,
      token_endpoint: `${base}/oauth2/token`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      userinfo_endpoint: `${base}/oauth2/userinfo`,
      revocation_endpoint: `${base}/oauth2/revoke`,
      introspection_endpoint: `${base}/oauth2/introspect`,
      end_session_endpoint: `${base}/oauth2/end_session`,
      device_authorization_endpoint: `${base}/oauth2/device_authorization`,
      ...(config.oauth.registration.enabled
        ? { registration_endpoint: `${base}/oauth2/register` }
        : {}),
      grant_types_supported: [
        GRANT_AUTHORIZATION_CODE,
        GRANT_CLIENT_CREDENTIALS,
        GRANT_REFRESH_TOKEN,
        GRANT_TOKEN_EXCHANGE,
        GRANT_DEVICE_CODE,
      ],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: [PKCE_METHOD],
      authorization_response_iss_parameter_supported: true,
      prompt_values_supported: ['none', 'login'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [config.oauth.signingAlgorithm],
      token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
      revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
      introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      // private_key_jwt assertions: asymmetric algorithms only (no client_secret_jwt, no none).
      token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
      revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
      introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
      scopes_supported: [...OIDC_SCOPES, OFFLINE_ACCESS, ...MCP_SCOPES],
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'nonce',
        'sid',
        'amr',
        'azp',
        'client_id',
        'scope',
        'email',
        'email_verified',
        'name',
        'given_name',
        'family_name',
        'preferred_username',
      ],
      access_token_signing_alg_values_supported: [config.oauth.signingAlgorithm],
    };
  }

  @Get('openid-configuration')
  @Public()
  @Header('Cache-Control', METADATA_CACHE_CONTROL)
  openid(): Record<string, unknown> {
    return this.metadata;
  }

  @Get('oauth-authorization-server')
  @Public()
  @Header('Cache-Control', METADATA_CACHE_CONTROL)
  oauth(): Record<string, unknown> {
    return this.metadata;
  }

  /** RFC 9728 §3: the API as a protected resource (its tokens' `aud` is `resource`). */
  @Get('oauth-protected-resource')
  @Public()
  @Header('Cache-Control', METADATA_CACHE_CONTROL)
  apiResourceMetadata(): ProtectedResourceMetadata {
    return this.apiResource;
  }

  /** RFC 9728 §3.1: the MCP endpoint's metadata, at the well-known path with the resource's path. */
  @Get('oauth-protected-resource/mcp')
  @Public()
  @Header('Cache-Control', METADATA_CACHE_CONTROL)
  mcpResourceMetadata(): ProtectedResourceMetadata {
    return this.mcpResource;
  }
}
