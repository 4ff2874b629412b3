/**
 * The one definition of every configuration setting: the loader takes its known keys, defaults, ranges
 * and allowed values from here, and `npm run config:docs` generates the README's configuration reference
 * and `bridgekeeper.properties.example` from it (a test fails when either drifts).
 */

export type SettingType = 'string' | 'integer' | 'boolean' | 'url' | 'list' | 'enum';

export interface SettingDefinition {
  /**
   * Global: the key after `bridgekeeper.` (`http.port`). Per issuer: the suffix after
   * `bridgekeeper.auth.jwt.trusted.issuer.<name>.` (`jwks`).
   */
  readonly name: string;
  readonly type: SettingType;
  /** The default as it is written in the file; absent: unset by default. */
  readonly default?: string;
  /** Markdown: how the reference shows the default when it is not a literal value. */
  readonly defaultText?: string;
  /** An example value for `bridgekeeper.properties.example` when the setting has no literal default. */
  readonly example?: string;
  /** Markdown, one paragraph. */
  readonly description: string;
  /** Holds a credential (or a URL that may carry one): never printed, never echoed in errors. */
  readonly sensitive?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** `enum`: the allowed values. */
  readonly values?: readonly string[];
  /** Heading of its group in `bridgekeeper.properties.example`. */
  readonly section: string;
}

export const PREFIX = 'bridgekeeper.';
export const ISSUER_PREFIX = 'bridgekeeper.auth.jwt.trusted.issuer.';
/** The only `BRIDGEKEEPER_*` variable that is not a setting: where the configuration file is. */
export const CONFIG_FILE_ENV = 'BRIDGEKEEPER_CONFIG';
/**
 * The `bridgekeeper` command line's variables (issue 11 §2): not settings of the server, which ignores
 * them, so a shell that exports them can still start it.
 */
export const CLI_ENV_VARS: readonly string[] = [
  'BRIDGEKEEPER_SERVER',
  'BRIDGEKEEPER_TOKEN',
  'BRIDGEKEEPER_CLIENT_ID',
  'BRIDGEKEEPER_CLIENT_SECRET',
  'BRIDGEKEEPER_PRIVATE_KEY_FILE',
];

export const DEFAULT_INVITE_SUBJECT = 'You are invited to {{project}}';
export const DEFAULT_INVITE_BODY =
  'Hello {{name}},\n\nyou have been invited to {{project}}. Sign in at {{link}} with your usual account.\n';

const SERVER = 'Server';
const DATABASE = 'PostgreSQL (unset URL: an embedded PostgreSQL runs in the data dir)';
const CACHE = 'Cache (unset Redis URL: an in-process cache for a single node)';
const OUTBOUND = 'Calls to identity providers';
const API = 'GraphQL and actors';
const ISSUERS = 'Trusted issuers (names: lower-case letters and digits)';
const EMAIL = 'Invite emails (unset SMTP URL: no email is sent, and invites say so)';
const OAUTH = 'Bridgekeeper as an OAuth 2 / OpenID provider';
const SIGNIN = 'Sign-in: local accounts, login pages and browser sessions';
const SSO =
  'Sign-in through an external OpenID provider (unset authority: none from configuration)';
const CONSOLE = 'Admin console';
const LIMITS = 'Rate limits (shared through Redis when configured, per node otherwise)';
const AUDIT = 'Audit log';

export const DEFAULT_RESET_SUBJECT = 'Set a new password for {{product}}';
export const DEFAULT_RESET_BODY =
  'Hello {{name}},\n\nan administrator sent you a link to set a new password: {{link}}\nIt works once and expires in {{hours}} hours. If you did not expect it, ignore this email.\n';

export const GLOBAL_SETTINGS: readonly SettingDefinition[] = [
  {
    name: 'mode',
    type: 'enum',
    values: ['development', 'production'],
    default: 'development',
    section: SERVER,
    description:
      '`development` or `production`. `production` additionally refuses plain-`http` JWKS and userinfo URLs (except loopback ones) and requires `bridgekeeper.secrets.key`.',
  },
  {
    name: 'http.port',
    type: 'integer',
    default: '3000',
    min: 0,
    max: 65535,
    section: SERVER,
    description: 'Listening port (0-65535).',
  },
  {
    name: 'http.host',
    type: 'string',
    default: '127.0.0.1',
    section: SERVER,
    description: 'Listening address (`0.0.0.0` in containers).',
  },
  {
    name: 'http.trusted.proxies',
    type: 'list',
    example: '10.0.0.0/8,127.0.0.1',
    section: SERVER,
    description:
      'Comma list of addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` gives the client address (login throttling per address, logs). Unset: the connecting address is the client, so behind a proxy every person would share one address.',
  },
  {
    name: 'public.url',
    type: 'url',
    defaultText: '`http://<host>:<port>`',
    example: 'https://bridgekeeper.example.com',
    section: SERVER,
    description:
      'The `http(s)` URL clients use to reach this service (trailing `/` dropped): the `iss` of our own tokens and of discovery. Every node of a deployment must share it. Unset: the listening address; `127.0.0.1` for `0.0.0.0` or `::`, with a warning.',
  },
  {
    name: 'data.dir',
    type: 'string',
    default: './.bridgekeeper',
    section: SERVER,
    description:
      "Local data, relative to the working directory: the embedded PostgreSQL's files (`postgres/`) and its generated password (`postgres.password`, mode 0600).",
  },
  {
    name: 'shutdown.grace.seconds',
    type: 'integer',
    default: '10',
    min: 0,
    max: 600,
    section: SERVER,
    description:
      'On SIGTERM: seconds (0-600) for requests in flight to finish once the node stops accepting and `/health/ready` answers 503; then busy connections are closed, pools closed, exit 0.',
  },
  {
    name: 'log.level',
    type: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    section: SERVER,
    description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
  },
  {
    name: 'log.format',
    type: 'enum',
    values: ['auto', 'json', 'pretty'],
    default: 'auto',
    section: SERVER,
    description:
      '`json`: one JSON object per line (for log collectors). `pretty`: one readable line per entry. `auto`: `pretty` when standard output is a terminal, `json` otherwise.',
  },
  {
    name: 'log.access',
    type: 'string',
    default: 'all',
    section: SERVER,
    description:
      'The per-request access log line: `all`, `errors` (status 400 and above only), or `sample:N` (errors and 1 request in N of the others). Metrics count every request, and security events (refusals, logins, revocations) are separate lines, always logged.',
  },
  {
    name: 'database.url',
    type: 'url',
    example: 'postgres://bridgekeeper:change-me@localhost:5432/bridgekeeper',
    sensitive: true,
    section: DATABASE,
    description:
      '`postgres://` or `postgresql://` URL. **When absent, an embedded PostgreSQL is started** in the data dir on a free loopback port, and stopped on `SIGINT`/`SIGTERM`.',
  },
  {
    name: 'database.migrations.run',
    type: 'boolean',
    default: 'true',
    section: DATABASE,
    description:
      'Run pending migrations at start, under a PostgreSQL advisory lock so nodes starting together do not collide. `false`: run them as a step (`npm run migration:run`).',
  },
  {
    name: 'database.pool.size',
    type: 'integer',
    default: '10',
    min: 1,
    max: 500,
    section: DATABASE,
    description: 'Connection pool size (1-500).',
  },
  {
    name: 'database.statement.timeout.ms',
    type: 'integer',
    default: '5000',
    min: 100,
    max: 600000,
    section: DATABASE,
    description: 'PostgreSQL `statement_timeout` of every connection (100-600000).',
  },
  {
    name: 'redis.url',
    type: 'url',
    example: 'redis://localhost:6379',
    sensitive: true,
    section: CACHE,
    description:
      '`redis://` or `rediss://` URL. When absent, an in-process cache serves a single node.',
  },
  {
    name: 'redis.key.prefix',
    type: 'string',
    default: 'bk:',
    section: CACHE,
    description: 'Prefix of every Redis key.',
  },
  {
    name: 'redis.command.timeout.ms',
    type: 'integer',
    default: '500',
    min: 10,
    max: 60000,
    section: CACHE,
    description:
      'Redis command timeout (10-60000); on timeout or outage the cache fails soft and PostgreSQL answers.',
  },
  {
    name: 'cache.memory.max.entries',
    type: 'integer',
    default: '100000',
    min: 100,
    max: 10000000,
    section: CACHE,
    description: 'Bound of the in-process cache (100-10000000).',
  },
  {
    name: 'outbound.timeout.ms',
    type: 'integer',
    default: '5000',
    min: 100,
    max: 60000,
    section: OUTBOUND,
    description: 'Timeout of every call to an identity provider (100-60000).',
  },
  {
    name: 'outbound.max.response.bytes',
    type: 'integer',
    default: '1048576',
    min: 1024,
    max: 67108864,
    section: OUTBOUND,
    description: 'Response size cap of every call to an identity provider (1024-67108864).',
  },
  {
    name: 'outbound.allow.link.local',
    type: 'boolean',
    default: 'false',
    section: OUTBOUND,
    description:
      'Allow IdP URLs that resolve to link-local or cloud-metadata addresses (169.254.0.0/16, fe80::/10). Off: SSRF protection.',
  },
  {
    name: 'jwks.cooldown.seconds',
    type: 'integer',
    default: '30',
    min: 1,
    max: 3600,
    section: OUTBOUND,
    description: "An unknown `kid` refetches an issuer's JWKS at most once per cooldown (1-3600).",
  },
  {
    name: 'jwks.refresh.seconds',
    type: 'integer',
    default: '300',
    min: 5,
    max: 86400,
    section: OUTBOUND,
    description:
      'Background JWKS refresh interval (5-86400): after the first fetch, requests do not wait on an IdP.',
  },
  {
    name: 'jwks.max.stale.seconds',
    type: 'integer',
    default: '86400',
    min: 60,
    max: 604800,
    section: OUTBOUND,
    description:
      "How long the last good key set keeps being used while its IdP is unreachable (60-604800). After that the issuer's tokens get 503.",
  },
  {
    name: 'graphql.max.depth',
    type: 'integer',
    default: '10',
    min: 2,
    max: 100,
    section: API,
    description:
      'Maximum selection depth (2-100). The standard introspection query (15 deep) stays allowed; deeper introspection does not.',
  },
  {
    name: 'graphql.max.complexity',
    type: 'integer',
    default: '1000',
    min: 10,
    max: 1000000,
    section: API,
    description:
      'Maximum query cost (10-1000000); list fields cost their page size times their selection.',
  },
  {
    name: 'actors.last.seen.interval.seconds',
    type: 'integer',
    default: '300',
    min: 1,
    max: 86400,
    section: API,
    description: '`lastSeenAt` is written at most this often per actor (1-86400).',
  },
  {
    name: 'auth.jwt.trusted.issuers',
    type: 'list',
    example: 'corp',
    section: ISSUERS,
    description:
      'Comma list of issuer names (lower-case letters and digits, each once), each configured with the per-issuer keys below. No issuers: every external token is refused (Bridgekeeper’s own tokens still work).',
  },
  {
    name: 'auth.admins',
    type: 'list',
    example: 'corp:6f1c2a9e-0d3b-4c8e-9a51-2b7d4e0f9c11',
    section: ISSUERS,
    description:
      'Comma list of `<issuer name>:<sub>` identities that get the `ADMIN` role. Each must name a listed issuer.',
  },
  {
    name: 'smtp.url',
    type: 'url',
    example: 'smtp://user:password@smtp.example.com:587',
    sensitive: true,
    section: EMAIL,
    description:
      '`smtp://user:pass@host:port` or `smtps://…` for invite emails. Absent: invites never send email (and say so).',
  },
  {
    name: 'smtp.from',
    type: 'string',
    default: 'Bridgekeeper <no-reply@localhost>',
    section: EMAIL,
    description: 'Sender of invite emails.',
  },
  {
    name: 'invite.email.subject',
    type: 'string',
    default: DEFAULT_INVITE_SUBJECT,
    section: EMAIL,
    description: 'Subject template: `{{name}}`, `{{project}}`, `{{link}}`.',
  },
  {
    name: 'invite.email.body',
    type: 'string',
    default: DEFAULT_INVITE_BODY,
    defaultText: 'a short greeting',
    section: EMAIL,
    description: 'Plain-text body template (`\\n` for line breaks), same placeholders.',
  },
  {
    name: 'invite.signin.url',
    type: 'url',
    defaultText: '`bridgekeeper.public.url`',
    example: 'https://bridgekeeper.example.com',
    section: EMAIL,
    description:
      'The `{{link}}` in emails of invites with an `externalId` (people who sign in through a trusted issuer). An invite with only an email links to a one-time set-password page instead.',
  },
  {
    name: 'secrets.key',
    type: 'string',
    defaultText: '_(generated in development)_',
    example: '<openssl rand -base64 32>',
    sensitive: true,
    section: OAUTH,
    description:
      'At least 32 characters; encrypts the signing keys at rest. Required in `production` mode, where placeholders are refused. Same value on every node. In development a key is generated in the data dir.',
  },
  {
    name: 'oauth.signing.algorithm',
    type: 'enum',
    values: ['ES256', 'RS256'],
    default: 'ES256',
    section: OAUTH,
    description: '`ES256` or `RS256`, for new signing keys.',
  },
  {
    name: 'oauth.signing.rotation.seconds',
    type: 'integer',
    default: String(30 * 86400),
    min: 0,
    max: 365 * 86400,
    section: OAUTH,
    description:
      'Rotate the signing key this often (0-31536000; 30 days by default; 0: only with `rotateSigningKey`).',
  },
  {
    name: 'oauth.audience',
    type: 'string',
    defaultText: '`bridgekeeper.public.url`',
    example: 'https://api.example.com',
    section: OAUTH,
    description: 'The `aud` of our access tokens, and the audience our own validation requires.',
  },
  {
    name: 'oauth.access.token.ttl.seconds',
    type: 'integer',
    default: '300',
    min: 30,
    max: 86400,
    section: OAUTH,
    description: 'Lifetime of our access tokens (30-86400).',
  },
  {
    name: 'oauth.refresh.token.ttl.seconds',
    type: 'integer',
    default: String(30 * 86400),
    min: 60,
    max: 365 * 86400,
    section: OAUTH,
    description:
      "Lifetime of a grant's refresh tokens (60-31536000; 30 days by default); an exchanged grant never outlives its subject token.",
  },
  {
    name: 'oauth.code.ttl.seconds',
    type: 'integer',
    default: '60',
    min: 10,
    max: 600,
    section: OAUTH,
    description:
      'Lifetime of an authorization code (10-600; 60 by default): single use, redeemable on any node.',
  },
  {
    name: 'oauth.id.token.ttl.seconds',
    type: 'integer',
    default: '300',
    min: 60,
    max: 86400,
    section: OAUTH,
    description: 'Lifetime of our ID tokens (60-86400).',
  },
  {
    name: 'oauth.device.code.ttl.seconds',
    type: 'integer',
    default: '600',
    min: 60,
    max: 1800,
    section: OAUTH,
    description:
      'Lifetime of a device authorization (RFC 8628, 60-1800; 600 by default): the user code must be approved and the device code redeemed within it, once.',
  },
  {
    name: 'oauth.device.interval.seconds',
    type: 'integer',
    default: '5',
    min: 1,
    max: 60,
    section: OAUTH,
    description:
      'Seconds a device must wait between polls of the token endpoint (1-60; 5 by default); polling faster is answered `slow_down` and adds 5 seconds.',
  },
  {
    name: 'oauth.registration.enabled',
    type: 'boolean',
    default: 'true',
    section: OAUTH,
    description:
      'RFC 7591 dynamic client registration at `POST /oauth2/register` (MCP clients use it): public clients only, with loopback or https redirect URIs; people are asked for consent before such a client gets a code.',
  },
  {
    name: 'oauth.registration.max.per.hour',
    type: 'integer',
    default: '20',
    min: 1,
    max: 10000,
    section: OAUTH,
    description:
      'Dynamic registrations accepted per client address per hour (1-10000; 20 by default); more are answered 429.',
  },
  {
    name: 'oauth.registration.unused.ttl.seconds',
    type: 'integer',
    default: String(86400),
    min: 600,
    max: 30 * 86400,
    section: OAUTH,
    description:
      'A dynamically registered client that no person approved within this many seconds is deleted (600-2592000; 1 day by default).',
  },
  {
    name: 'oauth.client.metadata.enabled',
    type: 'boolean',
    default: 'true',
    section: OAUTH,
    description:
      'Client ID Metadata Documents (MCP): a `client_id` that is an https URL is fetched (through the outbound policy: no redirects, size and time limits, no link-local addresses), cached 5 minutes, and treated as a self-registered public client (consent page). In development, http URLs on loopback are accepted too.',
  },
  {
    name: 'oauth.client.metadata.allowed.hosts',
    type: 'list',
    example: 'claude.ai,vscode.dev',
    section: OAUTH,
    description:
      'Comma list of host names whose metadata documents are accepted (exact match). Unset: any host.',
  },
  {
    name: 'auth.bootstrap.secret',
    type: 'string',
    example: '<openssl rand -hex 32>',
    sensitive: true,
    section: SIGNIN,
    description:
      'At least 32 characters, URL-safe (letters, digits, `-`, `_`, `.`, `~`; e.g. `openssl rand -hex 32`). While no administrator exists, `<public url>/setup/<this secret>` creates the first one, and no setup link is printed. Unset: on a start without an administrator, a one-time setup link (24 h) is printed in the log.',
  },
  {
    name: 'auth.password.min.length',
    type: 'integer',
    default: '12',
    min: 8,
    max: 128,
    section: SIGNIN,
    description:
      'Minimum password length (8-128). Passwords are also checked against a list of common passwords shipped with Bridgekeeper.',
  },
  {
    name: 'auth.session.idle.seconds',
    type: 'integer',
    default: String(8 * 3600),
    min: 60,
    max: 30 * 86400,
    section: SIGNIN,
    description: 'A browser session unused for this long ends (60-2592000; 8 hours by default).',
  },
  {
    name: 'auth.session.absolute.seconds',
    type: 'integer',
    default: String(7 * 86400),
    min: 300,
    max: 365 * 86400,
    section: SIGNIN,
    description:
      'A browser session ends this long after sign-in, used or not (300-31536000; 7 days by default).',
  },
  {
    name: 'auth.login.max.failures.per.account',
    type: 'integer',
    default: '5',
    min: 1,
    max: 1000,
    section: SIGNIN,
    description:
      'Failed sign-ins for one username within `auth.login.lockout.seconds` before it is locked for that long (1-1000). Counted across nodes through Redis when configured.',
  },
  {
    name: 'auth.login.max.failures.per.address',
    type: 'integer',
    default: '20',
    min: 1,
    max: 100000,
    section: SIGNIN,
    description:
      'Failed sign-ins from one client address within `auth.login.lockout.seconds` before that address is locked for that long (1-100000).',
  },
  {
    name: 'auth.login.lockout.seconds',
    type: 'integer',
    default: '300',
    min: 1,
    max: 86400,
    section: SIGNIN,
    description:
      'The failure-counting window and the lockout duration of the two limits above (1-86400); the login page says when to try again.',
  },
  {
    name: 'rate.limit.window.seconds',
    type: 'integer',
    default: '60',
    min: 1,
    max: 3600,
    section: LIMITS,
    description:
      'The window of every `rate.limit.*` count below (1-3600): a caller over a limit is answered 429 with `Retry-After` until its window ends.',
  },
  {
    name: 'rate.limit.token.per.client',
    type: 'integer',
    default: '6000',
    min: 1,
    max: 10000000,
    section: LIMITS,
    description:
      "`POST /oauth2/token` requests per authenticated client id per window (counted after client authentication, so no one else can use up a client's allowance).",
  },
  {
    name: 'rate.limit.token.per.address',
    type: 'integer',
    default: '6000',
    min: 1,
    max: 10000000,
    section: LIMITS,
    description:
      'Requests to the token, introspection and revocation endpoints per client address per window (see `http.trusted.proxies` behind a balancer).',
  },
  {
    name: 'rate.limit.client.auth.failures',
    type: 'integer',
    default: '20',
    min: 1,
    max: 100000,
    section: LIMITS,
    description:
      'Failed client authentications (token, introspection, revocation) per client id and client address per window before that pair is answered 429 `slow_down`: a misconfigured or guessing client slows down only itself. Counted the same whether or not the client exists.',
  },
  {
    name: 'rate.limit.client.auth.failures.per.address',
    type: 'integer',
    default: '100',
    min: 1,
    max: 1000000,
    section: LIMITS,
    description:
      'Failed client authentications per client address per window, whatever client ids they name, before the address is answered 429 `slow_down` (guessing across many client ids).',
  },
  {
    name: 'rate.limit.introspection.per.client',
    type: 'integer',
    default: '60000',
    min: 1,
    max: 10000000,
    section: LIMITS,
    description: '`POST /oauth2/introspect` requests per authenticated client per window.',
  },
  {
    name: 'rate.limit.revocation.per.client',
    type: 'integer',
    default: '6000',
    min: 1,
    max: 10000000,
    section: LIMITS,
    description: '`POST /oauth2/revoke` requests per authenticated client per window.',
  },
  {
    name: 'audit.retention.days',
    type: 'integer',
    default: '365',
    min: 1,
    max: 36500,
    section: AUDIT,
    description:
      'Audit events older than this many days are deleted by a daily purge (one node purges, under a database advisory lock).',
  },
  {
    name: 'audit.stdout',
    type: 'boolean',
    default: 'false',
    section: AUDIT,
    description:
      'Also write every audit event as one JSON line on standard output (`{"audit":{…}}`) for log shippers.',
  },
  {
    name: 'auth.link.ttl.seconds',
    type: 'integer',
    default: String(72 * 3600),
    min: 300,
    max: 30 * 86400,
    section: SIGNIN,
    description:
      'Lifetime of set-password links in invite emails and of password-reset links (300-2592000; 72 hours by default). The setup link lasts 24 hours.',
  },
  {
    name: 'auth.ui.local.enabled',
    type: 'boolean',
    default: 'true',
    section: SIGNIN,
    description:
      'Whether the login page offers the username and password form. `false`: people sign in only through the SSO providers; with exactly one enabled, `/login` goes straight to it.',
  },
  {
    name: 'auth.ui.oidc.authority',
    type: 'url',
    example: 'https://login.example.com/realms/corp',
    section: SSO,
    description:
      "The provider's issuer (discovery at `<authority>/.well-known/openid-configuration`). It must be the exact `issuer` of one of the trusted issuers, so that people who sign in through it are the same actors its API tokens map to; otherwise the start fails naming this key.",
  },
  {
    name: 'auth.ui.oidc.clientid',
    type: 'string',
    example: 'bridgekeeper',
    section: SSO,
    description: 'The client id Bridgekeeper has at the provider (required with an authority).',
  },
  {
    name: 'auth.ui.oidc.clientsecret',
    type: 'string',
    example: '<client secret>',
    sensitive: true,
    section: SSO,
    description:
      'The client secret (`client_secret_basic`). Unset: a public client (PKCE alone, as every sign-in uses PKCE S256).',
  },
  {
    name: 'auth.ui.oidc.enabled',
    type: 'boolean',
    default: 'true',
    section: SSO,
    description: 'Whether the login page offers this provider (when an authority is set).',
  },
  {
    name: 'auth.ui.oidc.name',
    type: 'string',
    default: 'oidc',
    section: SSO,
    description:
      'Its name in URLs (`/login/sso/<name>`): lower-case letters, digits and `-`, at most 40 characters.',
  },
  {
    name: 'auth.ui.oidc.display.name',
    type: 'string',
    defaultText: 'the name',
    example: 'Corporate login',
    section: SSO,
    description: 'The button says "Continue with <display name>".',
  },
  {
    name: 'auth.ui.oidc.scopes',
    type: 'string',
    default: 'openid profile email',
    section: SSO,
    description: 'Scopes asked for, separated by spaces or commas; `openid` is required.',
  },
  {
    name: 'auth.ui.oidc.claims.email',
    type: 'string',
    default: 'email',
    section: SSO,
    description:
      'The ID token claim holding the email (required: a sign-in without it is refused, naming the claim).',
  },
  {
    name: 'auth.ui.oidc.claims.firstname',
    type: 'string',
    default: 'given_name',
    section: SSO,
    description: 'The ID token claim holding the first name (required).',
  },
  {
    name: 'auth.ui.oidc.claims.lastname',
    type: 'string',
    default: 'family_name',
    section: SSO,
    description: 'The ID token claim holding the last name (optional in the token).',
  },
  {
    name: 'auth.ui.oidc.claims.custom',
    type: 'list',
    example: 'tags=tags,department=department',
    section: SSO,
    description:
      'Comma list of `claim=attribute`: these ID token claims are stored as attributes of the actor (TagoIO tags) at each sign-in.',
  },
  {
    name: 'auth.ui.oidc.forward.params',
    type: 'list',
    default: 'login_hint',
    section: SSO,
    description:
      'Query parameters of our login URL (or of the pending authorization request) passed on to the provider, e.g. `login_hint,invite`. Protocol parameters (`state`, `nonce`, `redirect_uri`…) can never be forwarded.',
  },
  {
    name: 'password.reset.email.subject',
    type: 'string',
    default: DEFAULT_RESET_SUBJECT,
    section: EMAIL,
    description:
      'Subject of password-reset emails: `{{name}}`, `{{product}}`, `{{link}}`, `{{hours}}`.',
  },
  {
    name: 'password.reset.email.body',
    type: 'string',
    default: DEFAULT_RESET_BODY,
    defaultText: 'a short message with the link',
    section: EMAIL,
    description:
      'Plain-text body of password-reset emails (`\\n` for line breaks), same placeholders.',
  },
  {
    name: 'console.dir',
    type: 'string',
    defaultText: '`console/dist` in the installation',
    example: '/opt/bridgekeeper/console/dist',
    section: CONSOLE,
    description:
      'The built admin console (`npm run build`), served at `/console`; relative to the working directory. Missing: `/console` answers 503 saying how to build it.',
  },
];

export const ISSUER_SETTINGS: readonly SettingDefinition[] = [
  {
    name: 'issuer',
    type: 'string',
    defaultText: 'required',
    example: 'https://login.example.com/realms/corp',
    section: ISSUERS,
    description:
      'The exact `iss` value, compared byte for byte (no trailing-slash or case folding). Two issuers cannot share one.',
  },
  {
    name: 'jwks',
    type: 'url',
    example: 'https://login.example.com/realms/corp/protocol/openid-connect/certs',
    section: ISSUERS,
    description:
      "JWKS URL: the issuer's JWTs are verified locally, with keys from this URL only. At least one of `jwks` and `userinfo` is required.",
  },
  {
    name: 'userinfo',
    type: 'url',
    example: 'https://login.example.com/realms/corp/protocol/openid-connect/userinfo',
    section: ISSUERS,
    description:
      "Userinfo endpoint (Medplum's `externalAuthProviders`). For an issuer **without** `jwks`, its JWTs are validated by calling this endpoint with the token; with both, JWTs are verified with the JWKS and the endpoint serves opaque tokens only. See [Userinfo-validated issuers](#userinfo-validated-issuers).",
  },
  {
    name: 'opaque',
    type: 'boolean',
    default: 'false',
    section: ISSUERS,
    description:
      "Also accept opaque (non-JWT) tokens and check them at this issuer's `userinfo` endpoint. Needs `userinfo`; at most one issuer may set it.",
  },
  {
    name: 'audiences',
    type: 'list',
    example: 'bridgekeeper',
    section: ISSUERS,
    description:
      'Comma list of accepted `aud` values, always checked when listed (on JWKS-verified tokens). Required when the issuer has a `jwks`…',
  },
  {
    name: 'audiences.required',
    type: 'boolean',
    defaultText: '`true` with `jwks`, else `false`',
    example: 'true',
    section: ISSUERS,
    description:
      "…unless this is set to `false`: without audiences, this issuer's tokens issued for **any** client are accepted. Only do that for an issuer that serves you alone.",
  },
  {
    name: 'algorithms',
    type: 'list',
    default: 'RS256',
    section: ISSUERS,
    description:
      'Comma list of accepted algorithms; asymmetric only (`RS256/384/512`, `PS256/384/512`, `ES256/384/512`, `EdDSA`). `HS*` and `none` are configuration errors.',
  },
  {
    name: 'clock.tolerance',
    type: 'integer',
    default: '60',
    section: ISSUERS,
    description: 'Seconds of clock skew tolerated on `exp`, `nbf` and `iat` (0-600).',
  },
  {
    name: 'max.token.age',
    type: 'integer',
    example: '3600',
    section: ISSUERS,
    description:
      'Seconds (1-31536000): refuse JWKS-verified tokens whose `iat` is older, whatever their `exp`.',
  },
  {
    name: 'provisioning',
    type: 'enum',
    values: ['jit', 'existing'],
    default: 'jit',
    section: ISSUERS,
    description:
      '`jit`: the first valid token creates the actor. `existing`: only actors that already exist are accepted (401 otherwise).',
  },
  {
    name: 'fhir.base',
    type: 'url',
    example: 'https://fhir.example.com/r4',
    section: ISSUERS,
    description:
      "The issuer's FHIR base URL: an absolute `fhirUser` claim must be under it; without it, absolute claims are refused (see [Projects, members and invites](#projects-members-and-invites)).",
  },
  {
    name: 'userinfo.credentials',
    type: 'boolean',
    default: 'false',
    section: ISSUERS,
    description:
      "`GET /oauth2/userinfo` with this issuer's token also returns `credentials` (`access_token`, `token_type`, `expires_in`, `scope`) minted by Bridgekeeper for the resolved actor (Medplum).",
  },
  {
    name: 'email.matching',
    type: 'boolean',
    default: 'false',
    section: ISSUERS,
    description:
      "Token exchange may find a person by this issuer's `email` claim, only when `email_verified` is `true` (SECURITY rule 5).",
  },
];

const GLOBAL_BY_NAME = new Map(GLOBAL_SETTINGS.map((s) => [s.name, s]));

/** The definition of a global setting (by its name after `bridgekeeper.`); throws on a typo in code. */
export function globalSetting(name: string): SettingDefinition {
  const s = GLOBAL_BY_NAME.get(name);
  if (!s) throw new Error(`no such setting: ${name}`);
  return s;
}

/** `bridgekeeper.http.port` → `BRIDGEKEEPER_HTTP_PORT`. */
export function envNameOf(key: string): string {
  return key.toUpperCase().replace(/\./g, '_');
}
