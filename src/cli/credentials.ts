import type { CliEnv } from './env';
import { CliError, EXIT, notAuthenticated, usage } from './errors';
import {
  type ClientCredentials,
  type Resource,
  clientCredentials,
  normalizeServer,
  refresh,
} from './oauth';
import type { CredentialStore } from './store';

/** Options every command accepts. */
export interface GlobalOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

export interface CliContext {
  env: CliEnv;
  store: CredentialStore;
  global: GlobalOptions;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Reads all of stdin (for `--with-token` and `token explain`). */
  readStdin: () => Promise<string>;
}

export type CredentialSource = 'flag' | 'env-token' | 'client-credentials' | 'login';

/** `--server`, `BRIDGEKEEPER_SERVER`, or the server of the stored login. */
export function serverOf(ctx: CliContext, required = true): string | undefined {
  const given = ctx.global.server ?? ctx.env.server ?? ctx.store.defaultServer();
  if (given) return normalizeServer(given);
  if (!required) return undefined;
  if (ctx.global.token ?? ctx.env.token ?? ctx.env.clientId) {
    throw usage('which server? Pass --server URL or set BRIDGEKEEPER_SERVER');
  }
  throw notAuthenticated('not logged in: run `bridgekeeper login --server URL`');
}

/** The client credentials of the environment, if any (`BRIDGEKEEPER_CLIENT_ID` and its secret or key). */
export function envClient(env: CliEnv): ClientCredentials | undefined {
  if (!env.clientId) return undefined;
  if (env.clientSecret) return { clientId: env.clientId, secret: env.clientSecret };
  if (env.privateKeyFile) return { clientId: env.clientId, privateKeyFile: env.privateKeyFile };
  throw usage(
    'BRIDGEKEEPER_CLIENT_ID needs BRIDGEKEEPER_CLIENT_SECRET or BRIDGEKEEPER_PRIVATE_KEY_FILE',
  );
}

/** Which credentials a command would use, first found wins (without contacting the server). */
export function credentialSource(
  ctx: CliContext,
  resource: Resource,
): CredentialSource | undefined {
  if (ctx.global.token) return 'flag';
  if (ctx.env.token) return 'env-token';
  if (envClient(ctx.env)) return 'client-credentials';
  const server = serverOf(ctx, false);
  return server && ctx.store.grant(server, resource) ? 'login' : undefined;
}

/**
 * A usable access token for `resource`: `--token`, `BRIDGEKEEPER_TOKEN`, client credentials from the
 * environment, then the stored login (refreshed now, under the store's lock, and the rotated refresh
 * token stored back).
 */
export async function accessToken(
  ctx: CliContext,
  resource: Resource,
): Promise<{ token: string; source: CredentialSource; server: string }> {
  const server = serverOf(ctx)!;
  if (ctx.global.token) return { token: ctx.global.token.trim(), source: 'flag', server };
  if (ctx.env.token) return { token: ctx.env.token.trim(), source: 'env-token', server };
  const client = envClient(ctx.env);
  if (client) {
    const answer = await clientCredentials(server, client, resource);
    return { token: answer.access_token, source: 'client-credentials', server };
  }
  if (!ctx.store.grant(server, resource)) {
    throw notAuthenticated(
      resource === 'api'
        ? `not logged in to ${server}: run \`bridgekeeper login\``
        : `no login for the MCP resource of ${server}: run \`bridgekeeper login --resource mcp\``,
    );
  }
  const token = await ctx.store.locked(async () => {
    // Read again under the lock: another invocation may have rotated it meanwhile.
    const grant = ctx.store.grant(server, resource);
    if (!grant) throw notAuthenticated(`not logged in to ${server}: run \`bridgekeeper login\``);
    const answer = await refresh(server, grant.clientId, grant.refreshToken);
    if (!answer.refresh_token) {
      throw new CliError('the server did not rotate the refresh token', EXIT.ERROR);
    }
    ctx.store.save(server, resource, {
      clientId: grant.clientId,
      refreshToken: answer.refresh_token,
    });
    return answer.access_token;
  });
  return { token, source: 'login', server };
}
