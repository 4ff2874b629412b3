import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getProperties } from 'properties-file';
import {
  type AdminIdentity,
  type AppConfig,
  type AuthConfig,
  type Mode,
  type OauthConfig,
  type SigningAlgorithm,
  type SsoProviderConfig,
  type TrustedIssuerConfig,
} from 'src/config/config.types';
import {
  CLI_ENV_VARS,
  CONFIG_FILE_ENV,
  envNameOf,
  GLOBAL_SETTINGS,
  globalSetting,
  ISSUER_PREFIX,
  ISSUER_SETTINGS,
  PREFIX,
} from 'src/config/config.definition';
import { unknownSettingProblem } from 'src/config/config.suggestions';
import {
  checkIssuer,
  type IssuerDraft,
  type IssuerField,
  issuerConflicts,
  issuerNameProblem,
} from 'src/config/issuer-rules';
import { parseCustomClaims, parseScopes, type SsoField, ssoProblems } from 'src/config/sso-rules';

/**
 * Configuration sources, later wins: built-in defaults → properties file → environment.
 * Every key `bridgekeeper.a.b.c` may be given as env `BRIDGEKEEPER_A_B_C`.
 */
export interface ConfigSources {
  env: Record<string, string | undefined>;
  /** Working directory used to find `bridgekeeper.properties` and to resolve relative paths. */
  cwd: string;
  /** Extra properties that win over the file but lose to the environment (used by tests and tools). */
  overrides?: Record<string, string>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const GLOBAL_KEYS = GLOBAL_SETTINGS.map((d) => PREFIX + d.name);
const ISSUER_KEYS = ISSUER_SETTINGS.map((d) => d.name);

export { envNameOf };

/** Reads the process environment and working directory: the one call site that touches `process.env`. */
export function loadConfigFromProcess(): AppConfig {
  return loadConfig({ env: process.env, cwd: process.cwd() });
}

export function loadConfig(sources: ConfigSources): AppConfig {
  const problems: string[] = [];
  const fileProps = readConfigFile(sources, problems);
  const merged: Record<string, string> = { ...fileProps, ...(sources.overrides ?? {}) };

  const raw = (key: string): string | undefined => {
    const fromEnv = sources.env[envNameOf(key)];
    if (fromEnv !== undefined) return fromEnv;
    return merged[key];
  };
  const where = (key: string) => `${key} (env ${envNameOf(key)})`;
  const r = new Reader(raw, where, problems);

  const mode = r.setting<Mode>('mode');
  const port = r.intSetting('http.port');
  const host = r.setting('http.host');
  const publicUrlGiven = r.has('bridgekeeper.public.url');
  const publicUrl = r
    .url('bridgekeeper.public.url', defaultPublicUrl(host, port))
    .replace(/\/+$/, '');

  // Issuers: the list decides which per-issuer keys are known.
  const issuerNames = r.list('bridgekeeper.auth.jwt.trusted.issuers');
  const seen = new Set<string>();
  for (const name of issuerNames) {
    const nameProblem = issuerNameProblem(name);
    if (nameProblem)
      problems.push(`${where('bridgekeeper.auth.jwt.trusted.issuers')}: ${nameProblem}`);
    if (seen.has(name)) {
      problems.push(
        `${where('bridgekeeper.auth.jwt.trusted.issuers')}: issuer "${name}" is listed twice`,
      );
    }
    seen.add(name);
  }
  const validNames = issuerNames
    .filter((n) => issuerNameProblem(n) === undefined)
    .filter((n, i, all) => all.indexOf(n) === i);
  const issuers = validNames
    .map((name) => readIssuer(r, name, mode, publicUrl, where, problems))
    .filter((i): i is TrustedIssuerConfig => i !== undefined);
  const opaqueIssuers = issuers.filter((i) => i.opaque).map((i) => i.name);
  if (opaqueIssuers.length > 1) {
    problems.push(
      `issuers ${opaqueIssuers.join(', ')} all accept opaque tokens; at most one may (an opaque token must only ever be sent to one IdP)`,
    );
  }
  issuers.forEach((i, index) => {
    for (const c of issuerConflicts(i, issuers.slice(0, index))) {
      if (c.kind === 'iss')
        problems.push(`issuers "${c.other}" and "${i.name}" have the same exact iss "${i.issuer}"`);
    }
  });

  const admins = readAdmins(r, new Set(validNames), where, problems);

  const knownKeys = new Set<string>(GLOBAL_KEYS);
  for (const name of issuerNames)
    for (const k of ISSUER_KEYS) knownKeys.add(`${ISSUER_PREFIX}${name}.${k}`);
  for (const key of Object.keys(merged)) {
    if (!knownKeys.has(key)) problems.push(unknownSettingProblem(key, 'key', issuerNames));
  }
  const knownEnv = new Set([...knownKeys].map(envNameOf));
  for (const name of Object.keys(sources.env)) {
    if (
      name.startsWith('BRIDGEKEEPER_') &&
      name !== CONFIG_FILE_ENV &&
      !CLI_ENV_VARS.includes(name) &&
      !knownEnv.has(name)
    ) {
      problems.push(unknownSettingProblem(name, 'env', issuerNames));
    }
  }

  const warnings: string[] = [];
  if (!publicUrlGiven && isWildcardHost(host)) {
    warnings.push(
      `bridgekeeper.public.url is not set and the node listens on every interface (${host}): ` +
        `its tokens and discovery name ${publicUrl}; set bridgekeeper.public.url to the address clients use`,
    );
  } else if (!publicUrlGiven && mode === 'production') {
    warnings.push(
      `bridgekeeper.public.url is not set: its tokens and discovery name ${publicUrl}; set it to the address clients use`,
    );
  }

  if (r.has(PREFIX + 'auth.ui.local.enabled') && !r.boolSetting('auth.ui.local.enabled')) {
    if (!r.has(PREFIX + 'auth.ui.oidc.authority') || !r.boolSetting('auth.ui.oidc.enabled')) {
      warnings.push(
        'bridgekeeper.auth.ui.local.enabled is false and no SSO provider is configured: only SSO providers added in GraphQL can sign people in',
      );
    }
  }

  const config: AppConfig = {
    mode,
    http: { host, port, trustedProxies: readTrustedProxies(r, where, problems) },
    shutdown: { graceSeconds: r.intSetting('shutdown.grace.seconds') },
    publicUrl,
    dataDir: resolve(sources.cwd, r.setting('data.dir')),
    database: {
      url: r.optionalUrl('bridgekeeper.database.url', ['postgres:', 'postgresql:']),
      runMigrations: r.boolSetting('database.migrations.run'),
      poolSize: r.intSetting('database.pool.size'),
      statementTimeoutMs: r.intSetting('database.statement.timeout.ms'),
    },
    redis: {
      url: r.optionalUrl('bridgekeeper.redis.url', ['redis:', 'rediss:']),
      keyPrefix: r.setting('redis.key.prefix'),
      commandTimeoutMs: r.intSetting('redis.command.timeout.ms'),
    },
    log: {
      level: r.setting<AppConfig['log']['level']>('log.level'),
      format: r.setting<AppConfig['log']['format']>('log.format'),
      access: r.accessLog('bridgekeeper.log.access'),
    },
    graphql: {
      maxDepth: r.intSetting('graphql.max.depth'),
      maxComplexity: r.intSetting('graphql.max.complexity'),
    },
    cache: {
      memoryMaxEntries: r.intSetting('cache.memory.max.entries'),
    },
    outbound: {
      timeoutMs: r.intSetting('outbound.timeout.ms'),
      maxResponseBytes: r.intSetting('outbound.max.response.bytes'),
      allowLinkLocal: r.boolSetting('outbound.allow.link.local'),
    },
    jwks: {
      cooldownSeconds: r.intSetting('jwks.cooldown.seconds'),
      refreshSeconds: r.intSetting('jwks.refresh.seconds'),
      maxStaleSeconds: r.intSetting('jwks.max.stale.seconds'),
    },
    actors: {
      lastSeenIntervalSeconds: r.intSetting('actors.last.seen.interval.seconds'),
    },
    issuers,
    admins,
    smtp: {
      url: r.optionalUrl('bridgekeeper.smtp.url', ['smtp:', 'smtps:']),
      from: r.setting('smtp.from'),
      inviteSubject: r.setting('invite.email.subject'),
      inviteBody: r.setting('invite.email.body'),
      signInUrl: r.url('bridgekeeper.invite.signin.url', publicUrl),
      resetSubject: r.setting('password.reset.email.subject'),
      resetBody: r.setting('password.reset.email.body'),
    },
    oauth: readOauth(r, mode, publicUrl, where, problems),
    auth: readAuth(r, mode, where, problems, issuers),
    rateLimits: {
      windowSeconds: r.intSetting('rate.limit.window.seconds'),
      tokenPerClient: r.intSetting('rate.limit.token.per.client'),
      perAddress: r.intSetting('rate.limit.token.per.address'),
      clientAuthFailures: r.intSetting('rate.limit.client.auth.failures'),
      clientAuthFailuresPerAddress: r.intSetting('rate.limit.client.auth.failures.per.address'),
      introspectionPerClient: r.intSetting('rate.limit.introspection.per.client'),
      revocationPerClient: r.intSetting('rate.limit.revocation.per.client'),
    },
    audit: {
      retentionDays: r.intSetting('audit.retention.days'),
      stdout: r.boolSetting('audit.stdout'),
    },
    console: {
      dir: r.has('bridgekeeper.console.dir')
        ? resolve(sources.cwd, r.setting('console.dir'))
        : DEFAULT_CONSOLE_DIR,
    },
    warnings,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The console built in this installation (`src/config` or `dist/config` → the package root). */
const DEFAULT_CONSOLE_DIR = resolve(__dirname, '..', '..', 'console', 'dist');

/** `0.0.0.0`, `::` (and an empty host): every interface, which is no address a client can use. */
function isWildcardHost(host: string): boolean {
  return ['0.0.0.0', '::', '[::]', ''].includes(host);
}

/**
 * The public URL when none is configured: the listening address, so that discovery's `issuer` is the
 * address the node is reached at (`http://127.0.0.1:3000` by default). A wildcard listening address is
 * no address a client can use: loopback then (and a start-up warning).
 */
export function defaultPublicUrl(host: string, port: number): string {
  let h = isWildcardHost(host) ? '127.0.0.1' : host;
  if (h.includes(':') && !h.startsWith('[')) h = `[${h}]`;
  return `http://${h}:${port}`;
}

/** Per-issuer configuration key suffixes, by field: the messages of the shared rules name these keys. */
const ISSUER_FIELD_KEYS: Record<IssuerField, string> = {
  name: 'name',
  issuer: 'issuer',
  jwksUrl: 'jwks',
  userinfoUrl: 'userinfo',
  opaque: 'opaque',
  audiences: 'audiences',
  audiencesRequired: 'audiences.required',
  algorithms: 'algorithms',
  clockToleranceSeconds: 'clock.tolerance',
  maxTokenAgeSeconds: 'max.token.age',
  provisioning: 'provisioning',
  fhirBase: 'fhir.base',
  userinfoCredentials: 'userinfo.credentials',
  emailMatching: 'email.matching',
};

/**
 * Reads one issuer's keys (syntax only: booleans, integers, lists) and applies the shared issuer rules
 * (`issuer-rules.ts`), which the admin API applies too.
 */
function readIssuer(
  r: Reader,
  name: string,
  mode: Mode,
  publicUrl: string,
  where: (k: string) => string,
  problems: string[],
): TrustedIssuerConfig | undefined {
  const k = (suffix: string) => `${ISSUER_PREFIX}${name}.${suffix}`;
  const key = (field: IssuerField) => k(ISSUER_FIELD_KEYS[field]);
  const issuer = r.requiredStr(k('issuer'));
  const draft: IssuerDraft = {
    name,
    ...(issuer ? { issuer } : {}),
    jwksUrl: r.optionalStr(k('jwks')),
    userinfoUrl: r.optionalStr(k('userinfo')),
    opaque: r.bool(k('opaque'), false),
    audiences: r.list(k('audiences')),
    audiencesRequired: r.optionalBool(k('audiences.required')),
    algorithms: r.optionalList(k('algorithms')),
    clockToleranceSeconds: r.optionalInteger(k('clock.tolerance')),
    maxTokenAgeSeconds: r.optionalInteger(k('max.token.age')),
    provisioning: r.optionalStr(k('provisioning')),
    fhirBase: r.optionalStr(k('fhir.base')),
    userinfoCredentials: r.bool(k('userinfo.credentials'), false),
    emailMatching: r.bool(k('email.matching'), false),
  };
  const checked = checkIssuer(draft, { mode, fieldName: key, ownIssuer: publicUrl });
  // A missing iss was already reported by requiredStr.
  for (const p of checked.problems) {
    if (!(p.field === 'issuer' && !issuer)) problems.push(`${where(key(p.field))}: ${p.message}`);
  }
  return checked.issuer ? { ...checked.issuer, source: 'config' } : undefined;
}

/** Values that are documentation, not secrets: refused as `secrets.key` in production mode. */
const PLACEHOLDER_SECRET =
  /^(change[-_ ]?me|changeit|placeholder|secret|password|example|default|test|x+|0+|(.)\2*)$|change[-_ ]?me|replace[-_ ]?me|placeholder|example|your[-_ ]/i;
const MIN_SECRETS_KEY_LENGTH = 32;

function readOauth(
  r: Reader,
  mode: Mode,
  publicUrl: string,
  where: (k: string) => string,
  problems: string[],
): OauthConfig {
  const keyName = 'bridgekeeper.secrets.key';
  const secretsKey = r.has(keyName) ? r.str(keyName, '') : undefined;
  if (secretsKey !== undefined) {
    // Never print the value, not even a part of it.
    if (secretsKey.length < MIN_SECRETS_KEY_LENGTH) {
      problems.push(
        `${where(keyName)}: must be at least ${MIN_SECRETS_KEY_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`,
      );
    } else if (mode === 'production' && PLACEHOLDER_SECRET.test(secretsKey)) {
      problems.push(`${where(keyName)}: looks like a placeholder; generate a random key`);
    }
  } else if (mode === 'production') {
    problems.push(
      `${where(keyName)}: is required in production mode (it encrypts the signing keys at rest); generate one with \`openssl rand -base64 32\``,
    );
  }
  const audience = r.str('bridgekeeper.oauth.audience', publicUrl);
  if (audience === `${publicUrl}/mcp`) {
    problems.push(
      `${where('bridgekeeper.oauth.audience')}: ${audience} is the MCP endpoint's resource; the API needs its own audience`,
    );
  }
  return {
    ...(secretsKey !== undefined ? { secretsKey } : {}),
    signingAlgorithm: r.setting<SigningAlgorithm>('oauth.signing.algorithm'),
    signingRotationSeconds: r.intSetting('oauth.signing.rotation.seconds'),
    audience,
    accessTokenTtlSeconds: r.intSetting('oauth.access.token.ttl.seconds'),
    refreshTokenTtlSeconds: r.intSetting('oauth.refresh.token.ttl.seconds'),
    codeTtlSeconds: r.intSetting('oauth.code.ttl.seconds'),
    idTokenTtlSeconds: r.intSetting('oauth.id.token.ttl.seconds'),
    deviceCodeTtlSeconds: r.intSetting('oauth.device.code.ttl.seconds'),
    deviceIntervalSeconds: r.intSetting('oauth.device.interval.seconds'),
    registration: {
      enabled: r.boolSetting('oauth.registration.enabled'),
      maxPerHour: r.intSetting('oauth.registration.max.per.hour'),
      unusedTtlSeconds: r.intSetting('oauth.registration.unused.ttl.seconds'),
    },
    clientMetadata: {
      enabled: r.boolSetting('oauth.client.metadata.enabled'),
      allowedHosts: r.list('bridgekeeper.oauth.client.metadata.allowed.hosts'),
    },
  };
}

const IPV4_OR_CIDR = /^(\d{1,3})(\.\d{1,3}){3}(\/\d{1,2})?$/;
const IPV6_OR_CIDR = /^[0-9a-fA-F:]+(\/\d{1,3})?$/;

function readTrustedProxies(r: Reader, where: (k: string) => string, problems: string[]): string[] {
  const key = 'bridgekeeper.http.trusted.proxies';
  const list = r.list(key);
  for (const p of list) {
    if (!IPV4_OR_CIDR.test(p) && !(p.includes(':') && IPV6_OR_CIDR.test(p))) {
      problems.push(`${where(key)}: each entry must be an IP address or CIDR range`);
      return [];
    }
  }
  return list;
}

function readAuth(
  r: Reader,
  mode: Mode,
  where: (k: string) => string,
  problems: string[],
  issuers: TrustedIssuerConfig[],
): AuthConfig {
  const keyName = 'bridgekeeper.auth.bootstrap.secret';
  const bootstrapSecret = r.optionalStr(keyName);
  // Never print the value, not even a part of it.
  if (bootstrapSecret !== undefined) {
    if (bootstrapSecret.length < MIN_SECRETS_KEY_LENGTH) {
      problems.push(
        `${where(keyName)}: must be at least ${MIN_SECRETS_KEY_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`,
      );
    } else if (mode === 'production' && PLACEHOLDER_SECRET.test(bootstrapSecret)) {
      problems.push(`${where(keyName)}: looks like a placeholder; generate a random secret`);
    } else if (!/^[A-Za-z0-9._~-]+$/.test(bootstrapSecret)) {
      problems.push(
        `${where(keyName)}: must be URL-safe: letters, digits, - _ . ~ (e.g. \`openssl rand -hex 32\`)`,
      );
    }
  }
  const idle = r.intSetting('auth.session.idle.seconds');
  const absolute = r.intSetting('auth.session.absolute.seconds');
  if (idle > absolute) {
    problems.push(
      `${where('bridgekeeper.auth.session.idle.seconds')}: must not exceed bridgekeeper.auth.session.absolute.seconds`,
    );
  }
  return {
    ...(bootstrapSecret !== undefined ? { bootstrapSecret } : {}),
    passwordMinLength: r.intSetting('auth.password.min.length'),
    sessionIdleSeconds: idle,
    sessionAbsoluteSeconds: absolute,
    loginMaxFailuresPerAccount: r.intSetting('auth.login.max.failures.per.account'),
    loginMaxFailuresPerAddress: r.intSetting('auth.login.max.failures.per.address'),
    loginLockoutSeconds: r.intSetting('auth.login.lockout.seconds'),
    linkTtlSeconds: r.intSetting('auth.link.ttl.seconds'),
    localLoginEnabled: r.boolSetting('auth.ui.local.enabled'),
    ...readSso(r, where, problems, issuers),
  };
}

const SSO_KEY_OF_FIELD: Record<SsoField, string> = {
  name: 'auth.ui.oidc.name',
  displayName: 'auth.ui.oidc.display.name',
  authority: 'auth.ui.oidc.authority',
  clientId: 'auth.ui.oidc.clientid',
  clientSecret: 'auth.ui.oidc.clientsecret',
  scopes: 'auth.ui.oidc.scopes',
  claimMappings: 'auth.ui.oidc.claims.custom',
  forwardedParameters: 'auth.ui.oidc.forward.params',
};

/** The SSO provider of `bridgekeeper.auth.ui.oidc.*` (issue 9 §4), checked by the shared SSO rules. */
function readSso(
  r: Reader,
  where: (k: string) => string,
  problems: string[],
  issuers: TrustedIssuerConfig[],
): { sso?: SsoProviderConfig } {
  const authorityKey = PREFIX + 'auth.ui.oidc.authority';
  const authority = r.optionalStr(authorityKey);
  if (authority === undefined) return {};
  const name = r.setting('auth.ui.oidc.name');
  const custom = parseCustomClaims(r.list(PREFIX + 'auth.ui.oidc.claims.custom'));
  if (custom.bad)
    problems.push(
      `${where(PREFIX + 'auth.ui.oidc.claims.custom')}: each entry must be claim=attribute`,
    );
  const lastName = r.setting('auth.ui.oidc.claims.lastname');
  const sso: SsoProviderConfig = {
    name,
    displayName: r.str(PREFIX + 'auth.ui.oidc.display.name', name),
    authority,
    clientId: r.requiredStr(PREFIX + 'auth.ui.oidc.clientid'),
    ...(r.has(PREFIX + 'auth.ui.oidc.clientsecret')
      ? { clientSecret: r.str(PREFIX + 'auth.ui.oidc.clientsecret', '') }
      : {}),
    scopes: parseScopes(r.setting('auth.ui.oidc.scopes')),
    claims: {
      email: r.setting('auth.ui.oidc.claims.email'),
      firstName: r.setting('auth.ui.oidc.claims.firstname'),
      lastName: lastName === '' ? null : lastName,
      custom: custom.custom,
    },
    forwardParams: r.list(PREFIX + 'auth.ui.oidc.forward.params', ['login_hint']),
    enabled: r.boolSetting('auth.ui.oidc.enabled'),
  };
  for (const p of ssoProblems(sso, issuers)) {
    if (p.field === 'clientId' && !r.has(PREFIX + 'auth.ui.oidc.clientid')) continue;
    problems.push(`${where(PREFIX + SSO_KEY_OF_FIELD[p.field])}: ${p.message}`);
  }
  return { sso };
}

function readAdmins(
  r: Reader,
  issuerNames: Set<string>,
  where: (k: string) => string,
  problems: string[],
): AdminIdentity[] {
  const key = 'bridgekeeper.auth.admins';
  const admins: AdminIdentity[] = [];
  for (const entry of r.list(key)) {
    const i = entry.indexOf(':');
    const issuer = i > 0 ? entry.slice(0, i) : '';
    const subject = i > 0 ? entry.slice(i + 1) : '';
    if (!issuer || !subject) {
      problems.push(`${where(key)}: entry "${entry}" must be <issuerName>:<sub>`);
    } else if (!issuerNames.has(issuer)) {
      problems.push(
        `${where(key)}: entry "${entry}" names issuer "${issuer}", which is not a trusted issuer`,
      );
    } else {
      admins.push({ issuer, subject });
    }
  }
  return admins;
}

function readConfigFile(sources: ConfigSources, problems: string[]): Record<string, string> {
  const explicit = sources.env[CONFIG_FILE_ENV];
  let path: string;
  if (explicit) {
    path = resolve(sources.cwd, explicit);
    if (!existsSync(path)) {
      problems.push(`env ${CONFIG_FILE_ENV}: file not found: ${path}`);
      return {};
    }
  } else {
    const found = ['bridgekeeper.properties', 'bridgekeeper.json']
      .map((f) => resolve(sources.cwd, f))
      .filter((f) => existsSync(f));
    if (found.length > 1) {
      problems.push(`${found.join(' and ')}: both exist; keep one configuration file`);
      return {};
    }
    if (found.length === 0) return {};
    path = found[0];
  }
  let raw: Record<string, string>;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.endsWith('.json') ? readJsonConfig(text, path, problems) : getProperties(text);
  } catch (err) {
    // V8's JSON errors quote the input around the error, which may be a secret: never repeat them.
    const why = err instanceof SyntaxError ? 'not valid JSON' : (err as Error).message;
    problems.push(`${path}: cannot be read (${why})`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith(PREFIX)) {
      problems.push(
        SETTING_NAME.test(key) || path.endsWith('.json')
          ? `${key} (in ${path}): unknown key; keys start with "${PREFIX}"`
          : `${path}: a line is not a "${PREFIX}" setting (not shown: it may be part of a wrapped value, such as a password)`,
      );
      continue;
    }
    out[key] = value;
  }
  return out;
}

/**
 * `bridgekeeper.json`: the same keys as the properties file (flat `"bridgekeeper.a.b": value`, or nested
 * objects), plus Medplum's `"externalAuthProviders": [{"issuer", "userInfoUrl"}]`, each becoming a
 * userinfo-validated trusted issuer named `ext<first 8 hex of SHA-256(issuer)>` (stable, so actors keep
 * their identity), or the provider's own `"name"`.
 */
function readJsonConfig(text: string, path: string, problems: string[]): Record<string, string> {
  const doc: unknown = JSON.parse(text);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error('the top level must be an object');
  }
  const out: Record<string, string> = {};
  const { externalAuthProviders, ...rest } = doc as Record<string, unknown>;
  const flatten = (prefix: string, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v);
    } else if (Array.isArray(value)) {
      out[prefix] = value.map(String).join(',');
    } else if (value !== null && value !== undefined) {
      out[prefix] = String(value);
    }
  };
  flatten('', rest);
  if (externalAuthProviders !== undefined) {
    if (!Array.isArray(externalAuthProviders)) {
      problems.push(`externalAuthProviders (in ${path}): must be an array`);
      return out;
    }
    const names = out['bridgekeeper.auth.jwt.trusted.issuers']
      ? out['bridgekeeper.auth.jwt.trusted.issuers'].split(',').map((n) => n.trim())
      : [];
    externalAuthProviders.forEach((p: unknown, i) => {
      const provider = (p ?? {}) as { issuer?: unknown; userInfoUrl?: unknown; name?: unknown };
      if (typeof provider.issuer !== 'string' || typeof provider.userInfoUrl !== 'string') {
        problems.push(
          `externalAuthProviders[${i}] (in ${path}): needs "issuer" and "userInfoUrl" strings`,
        );
        return;
      }
      const name =
        typeof provider.name === 'string'
          ? provider.name
          : `ext${createHash('sha256').update(provider.issuer).digest('hex').slice(0, 8)}`;
      names.push(name);
      out[`${ISSUER_PREFIX}${name}.issuer`] = provider.issuer;
      out[`${ISSUER_PREFIX}${name}.userinfo`] = provider.userInfoUrl;
    });
    out['bridgekeeper.auth.jwt.trusted.issuers'] = names.join(',');
  }
  return out;
}

/** A dotted name such as `server.port`: safe to repeat. A bare word or URL tail may be a secret's tail. */
const SETTING_NAME = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/;

/** Reads typed values and records one problem per bad key. Never includes a value in a message. */
class Reader {
  constructor(
    private readonly raw: (key: string) => string | undefined,
    private readonly where: (key: string) => string,
    private readonly problems: string[],
  ) {}

  /** Whether the key was given at all (valid or not). */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  private get(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const t = v.trim();
    return t === '' ? undefined : t;
  }

  private fail(key: string, why: string): void {
    this.problems.push(`${this.where(key)}: ${why}`);
  }

  /** A global string or enum setting, with its default and allowed values from the definition. */
  setting<T extends string = string>(name: string): T {
    const d = globalSetting(name);
    if (d.type === 'enum')
      return this.oneOf(PREFIX + name, d.values as readonly T[], d.default as T);
    return this.str(PREFIX + name, d.default ?? '') as T;
  }

  /** A global integer setting, with its default and range from the definition. */
  intSetting(name: string): number {
    const d = globalSetting(name);
    return this.int(PREFIX + name, Number(d.default), d.min ?? 0, d.max ?? Number.MAX_SAFE_INTEGER);
  }

  boolSetting(name: string): boolean {
    return this.bool(PREFIX + name, globalSetting(name).default === 'true');
  }

  str(key: string, def: string): string {
    return this.get(key) ?? def;
  }

  optionalStr(key: string): string | undefined {
    return this.get(key);
  }

  requiredStr(key: string): string {
    const v = this.get(key);
    if (v === undefined) this.fail(key, 'is required');
    return v ?? '';
  }

  list(key: string, def: string[] = []): string[] {
    const v = this.get(key);
    if (v === undefined) return def;
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }

  /** A list, or undefined when the key is absent (so the caller's default applies). */
  optionalList(key: string): string[] | undefined {
    return this.has(key) ? this.list(key) : undefined;
  }

  /** Integer syntax only; the range is the caller's rule. */
  optionalInteger(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) {
      this.fail(key, 'must be an integer');
      return undefined;
    }
    return Number(v);
  }

  int(key: string, def: number, min: number, max: number): number {
    return this.optionalInt(key, min, max) ?? def;
  }

  optionalInt(key: string, min: number, max: number): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) {
      this.fail(key, `must be an integer between ${min} and ${max}`);
      return undefined;
    }
    const n = Number(v);
    if (n < min || n > max) {
      this.fail(key, `must be between ${min} and ${max}`);
      return undefined;
    }
    return n;
  }

  optionalBool(key: string): boolean | undefined {
    return this.has(key) ? this.bool(key, false) : undefined;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.get(key)?.toLowerCase();
    if (v === undefined) return def;
    if (v === 'true') return true;
    if (v === 'false') return false;
    this.fail(key, 'must be true or false');
    return def;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], def: T): T {
    const v = this.get(key);
    if (v === undefined) return def;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.fail(key, `must be one of ${allowed.join(', ')}`);
    return def;
  }

  /** `all` (default), `errors` (status >= 400 only) or `sample:N` (errors, and 1 in N of the rest). */
  accessLog(key: string): AppConfig['log']['access'] {
    const v = this.get(key)?.toLowerCase() ?? 'all';
    if (v === 'all') return { sampleEvery: 1 };
    if (v === 'errors') return { sampleEvery: 0 };
    const n = /^sample:(\d{1,7})$/.exec(v);
    if (n && Number(n[1]) >= 1) return { sampleEvery: Number(n[1]) };
    this.fail(key, 'must be all, errors or sample:N (N from 1 to 9999999)');
    return { sampleEvery: 1 };
  }

  url(key: string, def: string): string {
    const v = this.get(key);
    if (v === undefined) return def;
    return this.checkUrl(key, v, ['http:', 'https:']) ? v : def;
  }

  requiredUrl(key: string, protocols: string[]): string {
    const v = this.get(key);
    if (v === undefined) {
      this.fail(key, 'is required');
      return '';
    }
    return this.checkUrl(key, v, protocols) ? v : '';
  }

  optionalUrl(key: string, protocols: string[]): string | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    return this.checkUrl(key, v, protocols) ? v : undefined;
  }

  private checkUrl(key: string, v: string, protocols: string[]): boolean {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      this.fail(key, 'must be an absolute URL');
      return false;
    }
    if (!protocols.includes(u.protocol)) {
      this.fail(key, `must use ${protocols.map((p) => p.replace(':', '')).join(' or ')}`);
      return false;
    }
    return true;
  }
}
