import type { Command } from 'commander';
import { gql } from './api';
import { type CliContext, accessToken, credentialSource, serverOf } from './credentials';
import { CliError, notAuthenticated, usage } from './errors';
import {
  CLI_CLIENT_ID,
  LOGIN_SCOPE,
  type Resource,
  normalizeServer,
  pollDeviceFlow,
  refresh,
  revoke,
  startDeviceFlow,
} from './oauth';
import { emit, fields, table } from './output';

const MCP_SCOPE = 'mcp:read mcp:write';

const ME = `{ me { id issuer subject name email preferredUsername roles status } }`;
/** With the delegation chain (RFC 8693 `act`, nested when delegated again), when someone acts for me. */
const WHOAMI = `{ me { id issuer subject name email preferredUsername roles status }
  viewer { act { sub clientId act { sub clientId act { sub clientId } } } } }`;
interface Delegation {
  sub: string;
  clientId: string;
  act?: Delegation | null;
}

function actChain(act: Delegation | null | undefined): string | null {
  if (!act) return null;
  const rest = actChain(act.act);
  return `${act.sub} (client ${act.clientId})${rest ? ` for ${rest}` : ''}`;
}
interface Me {
  id: string;
  issuer: string;
  subject: string;
  name: string | null;
  email: string | null;
  preferredUsername: string | null;
  roles: string[];
  status: string;
}

function resourceOption(value: string): Resource {
  if (value !== 'api' && value !== 'mcp') throw usage('--resource must be api or mcp');
  return value;
}

/** `login`, `logout`, `status`, `whoami`, `token` and `token explain`. */
export function sessionCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('login')
    .description('Sign in with the device flow (approve in a browser) and store the refresh token')
    .option('--with-token', 'read a refresh token from stdin instead of the device flow')
    .option('--client-id <id>', 'the public client to sign in with', CLI_CLIENT_ID)
    .option('--resource <resource>', 'what the login is for: api or mcp', resourceOption, 'api')
    .action(async (opts: { withToken?: boolean; clientId: string; resource: Resource }) => {
      const c = ctx();
      const given = c.global.server ?? c.env.server ?? c.store.defaultServer();
      if (!given) throw usage('which server? Pass --server URL or set BRIDGEKEEPER_SERVER');
      const server = normalizeServer(given);
      let refreshToken: string;
      if (opts.withToken) {
        const presented = (await c.readStdin()).trim();
        if (!presented) throw usage('--with-token reads a refresh token from stdin; got nothing');
        // Proves the token and rotates it at once: only the new one is stored.
        const answer = await refresh(server, opts.clientId, presented);
        if (!answer.refresh_token) throw new CliError('the server did not rotate the token');
        refreshToken = answer.refresh_token;
      } else {
        const scope = opts.resource === 'mcp' ? `${LOGIN_SCOPE} ${MCP_SCOPE}` : LOGIN_SCOPE;
        const auth = await startDeviceFlow(server, opts.clientId, scope, opts.resource);
        c.err(
          [
            `To sign in, open ${auth.verification_uri} and enter the code ${auth.user_code}`,
            ...(auth.verification_uri_complete
              ? [`(or open ${auth.verification_uri_complete})`]
              : []),
            'Waiting for approval…',
          ].join('\n'),
        );
        const answer = await pollDeviceFlow(server, opts.clientId, auth, opts.resource);
        if (!answer.refresh_token) {
          throw new CliError(
            `the server issued no refresh token: the client ${opts.clientId} needs offline_access`,
          );
        }
        refreshToken = answer.refresh_token;
      }
      await c.store.locked(() => {
        c.store.save(server, opts.resource, { clientId: opts.clientId, refreshToken });
        return Promise.resolve();
      });
      c.err(`Logged in to ${server} (${opts.resource}); stored in ${c.store.path}`);
    });

  program
    .command('logout')
    .description('End the stored login: its grants are revoked on the server and forgotten here')
    .action(async () => {
      const c = ctx();
      const server = serverOf(c)!;
      const grants = await c.store.locked(() => Promise.resolve(c.store.forget(server)));
      if (grants.length === 0) throw notAuthenticated(`not logged in to ${server}`);
      const failures: string[] = [];
      for (const g of grants) {
        await revoke(server, g.clientId, g.refreshToken).catch((err: Error) => {
          failures.push(err.message);
        });
      }
      if (failures.length > 0) {
        throw new CliError(`forgotten locally, but the server did not confirm: ${failures[0]}`);
      }
      c.err(`Logged out of ${server}`);
    });

  program
    .command('status')
    .description('Which server and credentials are used, and whether they work')
    .action(async () => {
      const c = ctx();
      const server = serverOf(c, false);
      const source = server ? credentialSource(c, 'api') : undefined;
      const status = {
        server: server ?? null,
        credentials: source ?? null,
        configFile: c.store.path,
        storedLogins: (['api', 'mcp'] as const).filter((r) => server && c.store.grant(server, r)),
        actor: null as Me | null,
      };
      if (!server || !source) {
        emit(c, status, () => fields(Object.entries(status)));
        throw notAuthenticated('not logged in: run `bridgekeeper login`');
      }
      status.actor = (await gql<{ me: Me }>(c, ME)).me;
      emit(c, status, () =>
        fields([
          ['server', status.server],
          ['credentials', status.credentials],
          ['stored logins', status.storedLogins],
          ['config file', status.configFile],
          ['actor', `${status.actor!.id} (${status.actor!.issuer}:${status.actor!.subject})`],
        ]),
      );
    });

  program
    .command('whoami')
    .description('The actor the credentials authenticate as')
    .action(async () => {
      const c = ctx();
      const { me, viewer } = await gql<{ me: Me; viewer: { act: Delegation | null } }>(c, WHOAMI);
      const answer = viewer.act ? { ...me, act: viewer.act } : me;
      emit(c, answer, () =>
        fields([
          ['id', me.id],
          ['issuer', me.issuer],
          ['subject', me.subject],
          ['name', me.name],
          ['email', me.email],
          ['roles', me.roles],
          ['status', me.status],
          ...(viewer.act ? [['acting for you', actChain(viewer.act)] as [string, unknown]] : []),
        ]),
      );
    });

  const token = program
    .command('token')
    .description('Print a fresh access token (refreshing the login as needed), for scripts')
    .option('--resource <resource>', 'the token’s audience: api or mcp', resourceOption, 'api')
    .action(async (opts: { resource: Resource }) => {
      const c = ctx();
      const { token: value } = await accessToken(c, opts.resource);
      c.out(value);
    });

  token
    .command('explain')
    .description('Explain a token read from stdin, step by step (ADMIN); it is never printed')
    .action(async () => {
      const c = ctx();
      const presented = (await c.readStdin()).trim();
      if (!presented) throw usage('token explain reads the token from stdin; got nothing');
      const { explainToken: e } = await gql<{
        explainToken: {
          valid: boolean;
          issuer: string | null;
          subject: string | null;
          expiresAt: string | null;
          steps: { name: string; outcome: string; detail: string | null }[];
        };
      }>(
        c,
        `query($token: String!) { explainToken(token: $token) {
          valid issuer subject expiresAt steps { name outcome detail } } }`,
        { token: presented },
      );
      emit(c, e, () =>
        [
          fields([
            ['valid', e.valid],
            ['issuer', e.issuer],
            ['subject', e.subject],
            ['expires', e.expiresAt],
          ]),
          '',
          table(e.steps, [
            ['step', (s) => s.name],
            ['outcome', (s) => s.outcome],
            ['detail', (s) => s.detail],
          ]),
        ].join('\n'),
      );
    });
}
