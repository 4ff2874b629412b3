// Which folder of src/ may import which (STYLE.md §3: dependencies point one way). ESLint turns this
// table into `no-restricted-imports` rules, so `npm test` (lint first) fails on an import that crosses a
// boundary. Infrastructure imports no domain module; a domain module imports only the modules below it.
// To add an arrow, add it here and say why in the commit: the table is the architecture.

/** Infrastructure: every module may import these; they import no domain module. */
const INFRA = [
  'common',
  'config',
  'metrics',
  'database',
  'cache',
  'outbound',
  'secrets',
  'mail',
  'rate-limits',
  'audit',
];

/** module → the src/ folders it may import besides itself (transitively acyclic). */
export const ALLOWED = {
  common: [],
  config: ['common'],
  metrics: ['common', 'config'],
  // The data source lists every module's entities (see DATABASE_ENTITIES below); nothing else.
  database: ['common', 'config'],
  cache: ['common', 'config', 'metrics'],
  outbound: ['common', 'config', 'metrics'],
  secrets: ['common', 'config'],
  mail: ['common', 'config', 'metrics'],
  // Shared rate limits over the cache (issue 13 §3).
  'rate-limits': ['common', 'config', 'metrics', 'cache'],
  // The audit log (issue 13 §4): written by every domain module in its own transactions.
  audit: ['common', 'config', 'metrics', 'database'],

  actors: [...INFRA],
  projects: [...INFRA],
  revocation: [...INFRA],
  issuers: [...INFRA],
  'signing-keys': [...INFRA],
  memberships: [...INFRA, 'actors', 'projects'],
  'token-validation': [...INFRA, 'issuers', 'signing-keys', 'revocation'],
  identity: [...INFRA, 'token-validation', 'actors', 'memberships', 'projects', 'issuers'],
  clients: [...INFRA, 'actors', 'issuers', 'projects', 'revocation'],
  // Local accounts: actors of the built-in issuer; a set-password link binds an invited membership.
  accounts: [...INFRA, 'actors', 'memberships', 'projects'],
  // Server-side browser sessions: the actor's status, and revocation for ending them on every node.
  'browser-sessions': [...INFRA, 'actors', 'revocation'],
  // Sign-in through external OpenID providers: verifies ID tokens with the trusted issuers' keys, signs
  // in the (issuer, sub) actor and starts its browser session.
  sso: [...INFRA, 'issuers', 'token-validation', 'actors', 'browser-sessions'],
  invites: [...INFRA, 'memberships', 'projects', 'actors', 'issuers', 'accounts'],
  oauth: [
    ...INFRA,
    'browser-sessions',
    'token-validation',
    'identity',
    'clients',
    'memberships',
    'projects',
    'actors',
    'issuers',
    'revocation',
    'signing-keys',
    'sso',
  ],
  // The server-rendered pages: login, logout, setup, set-password.
  web: [...INFRA, 'accounts', 'actors', 'browser-sessions', 'memberships', 'revocation', 'sso'],
  // `GET /`: a public index of the service's URLs.
  root: ['common', 'config'],
  // Health reports on infrastructure and on the trusted issuers' key sets; nothing imports it.
  health: [...INFRA, 'issuers'],
  // `/mcp` (issue 11 §3): the MCP endpoint's tools call the domain services (never GraphQL); identity
  // authenticates its callers; oauth ends an actor's sessions (revoke_sessions).
  mcp: [
    ...INFRA,
    'actors',
    'clients',
    'identity',
    'invites',
    'issuers',
    'memberships',
    'oauth',
    'projects',
    'token-validation',
  ],
  // The `bridgekeeper` command line (issue 11 §2): a separate program over HTTP, importing no server code
  // (it must start without Nest); its files import each other with './'.
  cli: [],
  // The admin console (issue 10): its static files, and the GraphQL composed for it (viewer, my account,
  // activity statistics) over the domain modules; only schema-sdl.ts imports it.
  console: [
    ...INFRA,
    'accounts',
    'actors',
    'browser-sessions',
    'identity',
    'memberships',
    'oauth',
    'projects',
    // The login throttle: a wrong current password (changePassword) is a failed sign-in.
    'web',
  ],
  // The GraphQL server: per-request context (identity) and DataLoaders over the domain modules.
  graphql: [
    ...INFRA,
    'accounts',
    'identity',
    'actors',
    'clients',
    // schema-sdl.ts lists the console's resolvers with every other.
    'console',
    'invites',
    'issuers',
    'memberships',
    'oauth',
    'projects',
    'signing-keys',
    'sso',
    'token-validation',
  ],
};

/**
 * The import paths a file of `name` may not use: every `src/...` path outside its allowed folders (and
 * the top-level composition files app.module, bootstrap and main). Only src/database may import another
 * module's entities, to register them with the data source.
 */
function forbiddenImportRegex(name) {
  const allowed = [name, ...ALLOWED[name]].join('|');
  const entities = name === 'database' ? '(?!.*\\.entity$)' : '';
  return `^src/(?!(?:${allowed})/)${entities}`;
}

export function moduleBoundaryConfigs() {
  const modules = Object.keys(ALLOWED);
  return [
    {
      files: ['src/**/*.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          { patterns: [{ group: ['../*'], message: 'Import through the src/ alias.' }] },
        ],
      },
    },
    ...modules.map((name) => {
      return {
        files: [`src/${name}/**/*.ts`],
        // Unit specs may build fixtures from any module; the code they test may not.
        ignores: ['src/**/*.spec.ts'],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                { group: ['../*'], message: 'Import through the src/ alias.' },
                {
                  regex: forbiddenImportRegex(name),
                  message: `module boundary: src/${name} may import only ${ALLOWED[name].join(', ') || 'itself'} (module-boundaries.mjs)`,
                },
              ],
            },
          ],
        },
      };
    }),
  ];
}
