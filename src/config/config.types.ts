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
}

export interface SmtpConfig {
  /** `smtp://user:pass@host:port` or `smtps://…`; credentials are never printed. */
  url?: string;
  from: string;
  inviteSubject: string;
  inviteBody: string;
  /** Where the welcome email sends people to sign in. */
  signInUrl: string;
}

export interface AdminIdentity {
  issuer: string;
  subject: string;
}

export interface AppConfig {
  mode: Mode;
  http: { host: string; port: number };
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
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  graphql: { maxDepth: number; maxComplexity: number };
  cache: { memoryMaxEntries: number };
  outbound: { timeoutMs: number; maxResponseBytes: number; allowLinkLocal: boolean };
  jwks: { cooldownSeconds: number; refreshSeconds: number; maxStaleSeconds: number };
  actors: { lastSeenIntervalSeconds: number };
  issuers: TrustedIssuerConfig[];
  smtp: SmtpConfig;
  admins: AdminIdentity[];
}
