import { createPrivateKey, randomUUID, sign as signData } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CliError, notAuthenticated, scrub } from './errors';

/** The built-in public client the CLI signs people in with (device flow, refresh tokens). */
export const CLI_CLIENT_ID = 'bridgekeeper-cli';
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** What `login` asks for: an identity, and a refresh token to stay signed in. */
export const LOGIN_SCOPE = 'openid profile email offline_access';

export type Resource = 'api' | 'mcp';

export interface TokenAnswer {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
}

interface OauthErrorBody {
  error?: string;
  error_description?: string;
}

/** Client credentials for CI and agents: a secret, or a private key signing RFC 7523 assertions. */
export type ClientCredentials =
  { clientId: string; secret: string } | { clientId: string; privateKeyFile: string };

/** The public URL without trailing slashes. */
export function normalizeServer(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`not a URL: ${scrub(url)}`, 2);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new CliError(`the server URL must be http(s): ${scrub(url)}`, 2);
  }
  return url.replace(/\/+$/, '');
}

export function resourceUrl(server: string, resource: Resource): string | undefined {
  return resource === 'mcp' ? `${server}/mcp` : undefined;
}

/** A request to the server; network failures become a clear error (exit 1), never a stack. */
export async function call(server: string, path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`${server}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
    const code = cause?.code ?? cause?.errors?.[0]?.code ?? (err as Error).name;
    throw new CliError(`cannot reach ${server} (${code})`);
  }
}

async function postForm(
  server: string,
  path: string,
  form: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: TokenAnswer & OauthErrorBody & Record<string, unknown> }> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) params.set(k, v);
  const res = await call(server, path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: params.toString(),
  });
  const text = await res.text();
  let body: TokenAnswer & OauthErrorBody & Record<string, unknown>;
  try {
    body = text ? (JSON.parse(text) as typeof body) : ({} as typeof body);
  } catch {
    throw new CliError(`unexpected answer from ${server}${path} (HTTP ${res.status})`);
  }
  return { status: res.status, body };
}

function describe(body: OauthErrorBody, status: number): string {
  const what = body.error ?? `HTTP ${status}`;
  return body.error_description ? `${what}: ${scrub(body.error_description)}` : what;
}

/** RFC 6749 §6, rotating: the new refresh token must replace the stored one. */
export async function refresh(
  server: string,
  clientId: string,
  refreshToken: string,
): Promise<TokenAnswer> {
  const { status, body } = await postForm(server, '/oauth2/token', {
    grant_type: 'refresh_token',
    client_id: clientId,
    refresh_token: refreshToken,
  });
  if (status === 200 && typeof body.access_token === 'string') return body;
  if (body.error === 'invalid_grant' || body.error === 'invalid_client') {
    throw notAuthenticated(
      `your login has expired or was revoked (${describe(body, status)}): run \`bridgekeeper login\``,
    );
  }
  throw new CliError(`could not refresh the login: ${describe(body, status)}`);
}

/** RFC 6749 §4.4 with a secret (HTTP Basic) or a private_key_jwt assertion (RFC 7523 §2.2). */
export async function clientCredentials(
  server: string,
  creds: ClientCredentials,
  resource: Resource,
  scope?: string,
): Promise<TokenAnswer> {
  const form: Record<string, string | undefined> = {
    grant_type: 'client_credentials',
    resource: resourceUrl(server, resource),
    scope,
  };
  const headers: Record<string, string> = {};
  if ('secret' in creds) {
    const enc = (s: string) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(creds.clientId)}:${enc(creds.secret)}`).toString('base64')}`;
  } else {
    form.client_id = creds.clientId;
    form.client_assertion_type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    form.client_assertion = clientAssertion(server, creds.clientId, creds.privateKeyFile);
  }
  const { status, body } = await postForm(server, '/oauth2/token', form, headers);
  if (status === 200 && typeof body.access_token === 'string') return body;
  if (body.error === 'invalid_client') {
    throw notAuthenticated(`client authentication failed for ${creds.clientId}`);
  }
  throw new CliError(`client credentials refused: ${describe(body, status)}`);
}

/** A one-minute, one-time RFC 7523 client assertion signed with the key in `file` (PEM). */
function clientAssertion(server: string, clientId: string, file: string): string {
  let key;
  try {
    key = createPrivateKey(readFileSync(file));
  } catch {
    throw new CliError(`cannot read a private key (PEM) from ${file}`);
  }
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const alg =
    type === 'rsa'
      ? 'RS256'
      : type === 'ed25519'
        ? 'EdDSA'
        : type === 'ec' && curve === 'prime256v1'
          ? 'ES256'
          : type === 'ec' && curve === 'secp384r1'
            ? 'ES384'
            : undefined;
  if (!alg)
    throw new CliError(`unsupported key type in ${file} (use RSA, EC P-256/P-384 or Ed25519)`);
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg, typ: 'JWT' })}.${b64({
    iss: clientId,
    sub: clientId,
    aud: `${server}/oauth2/token`,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
  })}`;
  const digest = alg === 'EdDSA' ? null : alg === 'ES384' ? 'sha384' : 'sha256';
  const signature = signData(digest, Buffer.from(input), {
    key,
    ...(type === 'ec' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  });
  return `${input}.${signature.toString('base64url')}`;
}

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

/** RFC 8628 §3.1–3.2. */
export async function startDeviceFlow(
  server: string,
  clientId: string,
  scope: string,
  resource: Resource,
): Promise<DeviceAuthorization> {
  const { status, body } = await postForm(server, '/oauth2/device_authorization', {
    client_id: clientId,
    scope,
    resource: resourceUrl(server, resource),
  });
  if (status === 200 && typeof body.device_code === 'string') {
    return body as unknown as DeviceAuthorization;
  }
  throw new CliError(`the server refused to start a device login: ${describe(body, status)}`);
}

/** RFC 8628 §3.4–3.5: polls until approved, denied or expired; `slow_down` adds 5 s. */
export async function pollDeviceFlow(
  server: string,
  clientId: string,
  auth: DeviceAuthorization,
  resource: Resource,
): Promise<TokenAnswer> {
  let interval = Math.max(1, auth.interval ?? 5);
  const deadline = Date.now() + auth.expires_in * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, interval * 1000));
    const { status, body } = await postForm(server, '/oauth2/token', {
      grant_type: DEVICE_CODE_GRANT,
      device_code: auth.device_code,
      client_id: clientId,
      resource: resourceUrl(server, resource),
    });
    if (status === 200 && typeof body.access_token === 'string') return body;
    switch (body.error) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        interval += 5;
        continue;
      case 'access_denied':
        throw notAuthenticated('the login was denied');
      case 'expired_token':
        throw notAuthenticated('the login code expired: run `bridgekeeper login` again');
      default:
        throw new CliError(`device login failed: ${describe(body, status)}`);
    }
  }
  throw notAuthenticated('the login code expired: run `bridgekeeper login` again');
}

/** RFC 7009: ends the grant behind a refresh token (an unknown token is a 200 too). */
export async function revoke(server: string, clientId: string, token: string): Promise<void> {
  const { status, body } = await postForm(server, '/oauth2/revoke', {
    token,
    token_type_hint: 'refresh_token',
    client_id: clientId,
  });
  if (status !== 200) throw new CliError(`could not revoke the login: ${describe(body, status)}`);
}
