import type { ClientGrantType } from 'src/clients/client.entity';

/** A public client Bridgekeeper registers itself on every node at start (and keeps as it is). */
export interface BuiltInClient {
  clientId: string;
  name: string;
  grantTypes: readonly ClientGrantType[];
  scopes: readonly string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}

/** The admin console's own client (issue 10): public, built in, registered by every node at start. */
export const CONSOLE_CLIENT_ID = 'bridgekeeper-console';
export const CONSOLE_CLIENT_NAME = 'Bridgekeeper console';
export const CONSOLE_CLIENT_GRANTS: readonly ClientGrantType[] = [
  'authorization_code',
  'refresh_token',
];
export const CONSOLE_CLIENT_SCOPES: readonly string[] = [
  'openid',
  'profile',
  'email',
  'offline_access',
];

/**
 * The `bridgekeeper` command line's client (issue 11 §2): public, the device grant only (a person
 * approves at `/device`), with refresh tokens so that `bridgekeeper token` works for the grant's life.
 */
export const CLI_CLIENT_ID = 'bridgekeeper-cli';
export const CLI_CLIENT_NAME = 'Bridgekeeper CLI';

/** Where the console's sign-in comes back to, and where its sign-out ends (from the public URL). */
export function consoleClientUris(publicUrl: string): {
  redirectUris: string[];
  postLogoutRedirectUris: string[];
} {
  return {
    redirectUris: [`${publicUrl}/console/callback`],
    postLogoutRedirectUris: [`${publicUrl}/console/`],
  };
}

/** Every built-in client, for this public URL: the console's and the command line's. */
export function builtInClients(publicUrl: string): BuiltInClient[] {
  return [
    {
      clientId: CONSOLE_CLIENT_ID,
      name: CONSOLE_CLIENT_NAME,
      grantTypes: CONSOLE_CLIENT_GRANTS,
      scopes: CONSOLE_CLIENT_SCOPES,
      ...consoleClientUris(publicUrl),
    },
    {
      clientId: CLI_CLIENT_ID,
      name: CLI_CLIENT_NAME,
      grantTypes: ['device_code', 'refresh_token'],
      scopes: CONSOLE_CLIENT_SCOPES,
      redirectUris: [],
      postLogoutRedirectUris: [],
    },
  ];
}

export function isBuiltInClient(clientId: string): boolean {
  return clientId === CONSOLE_CLIENT_ID || clientId === CLI_CLIENT_ID;
}
