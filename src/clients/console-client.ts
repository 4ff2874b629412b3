import type { ClientGrantType } from 'src/clients/client.entity';

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

export function isBuiltInClient(clientId: string): boolean {
  return clientId === CONSOLE_CLIENT_ID;
}
