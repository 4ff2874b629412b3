/** Typed, validated configuration. Built once by `loadConfig`; nothing else reads the environment. */

export type Mode = 'development' | 'production';
export type Provisioning = 'jit' | 'existing';

export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export interface TrustedIssuerConfig {
  /** Operator-chosen name: lower-case letters and digits. Used in actor identity and metrics labels. */
  name: string;
  /** The exact `iss` value; compared byte for byte. */
  issuer: string;
  /** JWKS URL: JWTs of this issuer are verified locally with its keys. */
  jwksUrl?: string;
  /** Userinfo endpoint: tokens are validated by calling it (Medplum's `externalAuthProviders`). */
  userinfoUrl?: string;
  /** Accept opaque (non-JWT) tokens for this issuer (at most one issuer; needs `userinfoUrl`). */
  opaque: boolean;
  audiences: string[];
  audiencesRequired: boolean;
  algorithms: AsymmetricAlgorithm[];
  clockToleranceSeconds: number;
  maxTokenAgeSeconds?: number;
  provisioning: Provisioning;
  /** FHIR base URL that absolute `fhirUser` claims of this issuer must start with (issue 3). */
  fhirBase?: string;
  /** `GET /oauth2/userinfo` with this issuer's token also returns Bridgekeeper `credentials` (Medplum). */
  userinfoCredentials: boolean;
  /** Whether a verified email (`email_verified: true`) of this issuer may be used to match people. */
  emailMatching: boolean;
  /** Where the issuer comes from: configuration (read-only) or the admin API (database). */
  source: 'config' | 'database';
  /**
   * Grows with every change of a database issuer (absent for configuration issuers, which never change
   * while running): a verdict cached under another revision is verified again.
   */
  revision?: number;
}

export interface SmtpConfig {
  /** `smtp://user:pass@host:port` or `smtps://…`; credentials are never printed. */
  url?: string;
  from: string;
  inviteSubject: string;
  inviteBody: string;
  /** Where the welcome email sends people to sign in. */
  signInUrl: string;
  resetSubject: string;
  resetBody: string;
}

/** Sign-in of people to Bridgekeeper itself (issue 9): local accounts, login pages, browser sessions. */
export interface AuthConfig {
  /** Replaces the printed setup link while no administrator exists (never printed). */
  bootstrapSecret?: string;
  passwordMinLength: number;
  sessionIdleSeconds: number;
  sessionAbsoluteSeconds: number;
  loginMaxFailuresPerAccount: number;
  loginMaxFailuresPerAddress: number;
  loginLockoutSeconds: number;
  /** Lifetime of set-password and reset links. */
  linkTtlSeconds: number;
  /** Whether the login page offers the password form (`auth.ui.local.enabled`). */
  localLoginEnabled: boolean;
  /** The SSO provider from configuration (`auth.ui.oidc.*`), read-only; absent without an authority. */
  sso?: SsoProviderConfig;
}

export interface SsoCustomClaimMapping {
  claim: string;
  attribute: string;
}

export interface SsoClaimMappingConfig {
  email: string;
  firstName: string;
  lastName: string | null;
  custom: SsoCustomClaimMapping[];
}

/** An upstream OpenID provider people sign in through (issue 9 §4). */
export interface SsoProviderConfig {
  name: string;
  displayName: string;
  /** The provider's issuer: exactly the `iss` of a trusted issuer. */
  authority: string;
  clientId: string;
  /** Absent: a public client (PKCE alone). Never printed. */
  clientSecret?: string;
  scopes: string[];
  claims: SsoClaimMappingConfig;
  forwardParams: string[];
  enabled: boolean;
}

export interface AdminIdentity {
  issuer: string;
  subject: string;
}

export type SigningAlgorithm = 'ES256' | 'RS256';

/** Bridgekeeper as an OAuth 2 / OpenID provider (issue 4). */
export interface OauthConfig {
  /** Encrypts secrets at rest (signing keys). Absent in development: a generated key in `dataDir`. */
  secretsKey?: string;
  signingAlgorithm: SigningAlgorithm;
  /** A new signing key every this many seconds (0: only when an admin rotates). */
  signingRotationSeconds: number;
  /** The `aud` of Bridgekeeper access tokens, and the audience our own validation accepts. */
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Lifetime of an authorization code (single use). */
  codeTtlSeconds: number;
  idTokenTtlSeconds: number;
  /** Lifetime of a device authorization (RFC 8628): its device and user codes. */
  deviceCodeTtlSeconds: number;
  /** Minimum seconds between a device's polls (`interval`; `slow_down` adds 5). */
  deviceIntervalSeconds: number;
  /** RFC 7591 dynamic registration of public clients. */
  registration: { enabled: boolean; maxPerHour: number; unusedTtlSeconds: number };
  /** Client ID Metadata Documents: URL client ids (empty `allowedHosts`: any host). */
  clientMetadata: { enabled: boolean; allowedHosts: string[] };
}

export interface AppConfig {
  mode: Mode;
  http: {
    host: string;
    port: number;
    /** Reverse proxies whose `X-Forwarded-For` names the client (empty: none). */
    trustedProxies: string[];
  };
  /** SIGTERM: seconds for requests in flight to finish before busy connections are closed. */
  shutdown: { graceSeconds: number };
  publicUrl: string;
  dataDir: string;
  database: {
    /** Absent: an embedded PostgreSQL is started under `dataDir`. */
    url?: string;
    runMigrations: boolean;
    poolSize: number;
    statementTimeoutMs: number;
  };
  redis: { url?: string; keyPrefix: string; commandTimeoutMs: number };
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    /** `auto`: readable lines on a terminal, JSON lines otherwise. */
    format: 'auto' | 'json' | 'pretty';
    /**
     * The per-request access log line (`request`, at info): every request (1), errors only (0: status
     * >= 400), or errors and 1 in N of the others. Security events are separate lines, always logged.
     */
    access: { sampleEvery: number };
  };
  graphql: { maxDepth: number; maxComplexity: number };
  cache: { memoryMaxEntries: number };
  outbound: { timeoutMs: number; maxResponseBytes: number; allowLinkLocal: boolean };
  jwks: { cooldownSeconds: number; refreshSeconds: number; maxStaleSeconds: number };
  actors: { lastSeenIntervalSeconds: number };
  issuers: TrustedIssuerConfig[];
  smtp: SmtpConfig;
  admins: AdminIdentity[];
  oauth: OauthConfig;
  auth: AuthConfig;
  /** Brakes on guessing (issue 13 §3): points per `windowSeconds`. */
  rateLimits: {
    windowSeconds: number;
    tokenPerClient: number;
    perAddress: number;
    clientAuthFailures: number;
    clientAuthFailuresPerAddress: number;
    introspectionPerClient: number;
    revocationPerClient: number;
  };
  audit: { retentionDays: number; stdout: boolean };
  /** The admin console's built files (`index.html`, `assets/`), served at `/console`. */
  console: { dir: string };
  /** Valid but risky choices, logged once at start (e.g. no public URL while listening on 0.0.0.0). */
  warnings: string[];
}
