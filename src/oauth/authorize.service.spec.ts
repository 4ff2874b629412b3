import type { FastifyRequest } from 'fastify';
import type { BrowserSession } from 'src/browser-sessions/browser-sessions.service';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import type { AppConfig } from 'src/config/config.types';
import { AuthorizeService } from 'src/oauth/authorize.service';
import { s256 } from 'src/oauth/pkce';

const ISSUER = 'https://id.example.com';
const VERIFIER = 'v'.repeat(43);
const client = {
  clientId: 'bkc_spa',
  status: 'ACTIVE',
  grantTypes: ['authorization_code', 'refresh_token'],
  scopes: ['offline_access', 'api'],
  redirectUris: ['https://app.example.com/cb', 'http://127.0.0.1/cb'],
} as unknown as ClientSnapshot;

function setup(session: BrowserSession | null) {
  const issued: unknown[] = [];
  const service = new AuthorizeService(
    {
      resolveClient: (id: string) => Promise.resolve(id === client.clientId ? client : undefined),
    } as never,
    { current: () => Promise.resolve(session) } as never,
    {
      issueCode: (c: unknown) => {
        issued.push(c);
        return Promise.resolve('bka_code');
      },
    } as never,
    { publicUrl: ISSUER, oauth: { audience: ISSUER } } as AppConfig,
  );
  const run = (query: Record<string, string | string[] | undefined>) =>
    service.authorize({
      query: {
        client_id: client.clientId,
        response_type: 'code',
        redirect_uri: 'https://app.example.com/cb',
        scope: 'openid',
        code_challenge: s256(VERIFIER),
        code_challenge_method: 'S256',
        state: 's',
        ...query,
      },
    } as unknown as FastifyRequest);
  return { run, issued };
}

const now = () => Math.floor(Date.now() / 1000);
const session: BrowserSession = { id: 'sid-1', actorId: 'actor-1', authTime: now(), amr: ['pwd'] };

function params(location: string) {
  return new URL(location, ISSUER).searchParams;
}

describe('AuthorizeService', () => {
  it('issues a code bound to the client, redirect URI, challenge, nonce and session, with iss', async () => {
    const { run, issued } = setup(session);
    const out = await run({ nonce: 'n', scope: 'openid offline_access api' });
    expect(out.kind).toBe('client');
    const p = params((out as { location: string }).location);
    expect(p.get('code')).toBe('bka_code');
    expect(p.get('state')).toBe('s');
    expect(p.get('iss')).toBe(ISSUER);
    expect(issued[0]).toMatchObject({
      clientId: 'bkc_spa',
      actorId: 'actor-1',
      redirectUri: 'https://app.example.com/cb',
      codeChallenge: s256(VERIFIER),
      nonce: 'n',
      browserSessionId: 'sid-1',
      scope: ['openid', 'offline_access', 'api'],
    });
  });

  it.each([
    [{ client_id: 'bkc_other' }],
    [{ client_id: undefined }],
    [{ redirect_uri: 'https://evil.example.com/cb' }],
    [{ redirect_uri: undefined }],
    [{ redirect_uri: ['https://app.example.com/cb', 'https://evil.example.com/cb'] }],
  ])('shows a page, never a redirect, for %j', async (q) => {
    const { run } = setup(session);
    expect((await run(q)).kind).toBe('page');
  });

  it.each([
    [{ code_challenge: undefined }, 'invalid_request'],
    [{ code_challenge_method: 'plain' }, 'invalid_request'],
    [{ code_challenge_method: undefined }, 'invalid_request'],
    [{ response_type: 'code id_token' }, 'unsupported_response_type'],
    [{ scope: 'openid admin' }, 'invalid_scope'],
    [{ prompt: 'consent' }, 'invalid_request'],
    [{ max_age: '-1' }, 'invalid_request'],
    [{ request: 'eyJ...' }, 'request_not_supported'],
    [{ state: ['a', 'b'] }, 'invalid_request'],
  ])('sends %j back to the verified client as %s', async (q, error) => {
    const { run, issued } = setup(session);
    const out = await run(q);
    expect(out.kind).toBe('client');
    const p = params((out as { location: string }).location);
    expect(p.get('error')).toBe(error);
    expect(p.get('iss')).toBe(ISSUER);
    expect(issued).toHaveLength(0);
  });

  it('sends a browser without a session to the login page, and prompt=none to login_required', async () => {
    const { run } = setup(null);
    const out = await run({ login_hint: 'alice' });
    expect(out.kind).toBe('login');
    const login = new URL((out as { location: string }).location, ISSUER);
    expect(login.pathname).toBe('/login');
    expect(login.searchParams.get('return_to')).toMatch(/^\/oauth2\/authorize\?client_id=bkc_spa&/);
    expect(login.searchParams.get('login_hint')).toBe('alice');
    const none = await run({ prompt: 'none' });
    expect(params((none as { location: string }).location).get('error')).toBe('login_required');
  });

  it('forces a new login for prompt=login and an exceeded max_age, once', async () => {
    const old = { ...session, authTime: now() - 3600 };
    const { run } = setup(old);
    const forced = await run({ prompt: 'login' });
    expect(forced.kind).toBe('login');
    const login = new URL((forced as { location: string }).location, ISSUER);
    expect(login.searchParams.get('prompt')).toBe('login');
    const back = new URL(login.searchParams.get('return_to')!, ISSUER);
    expect(back.searchParams.get('prompt')).toBeNull();
    const after = Number(back.searchParams.get('bk_auth_after'));
    // Coming back with the same old session: still a login; with a fresh one: a code.
    expect((await run({ bk_auth_after: String(after) })).kind).toBe('login');
    const fresh = setup({ ...session, authTime: after });
    expect((await fresh.run({ bk_auth_after: String(after) })).kind).toBe('client');
    expect((await run({ max_age: '60' })).kind).toBe('login');
    expect((await run({ max_age: '7200' })).kind).toBe('client');
  });

  it('accepts a loopback redirect URI on any port (RFC 8252)', async () => {
    const { run } = setup(session);
    const out = await run({ redirect_uri: 'http://127.0.0.1:49152/cb' });
    expect((out as { location: string }).location).toMatch(/^http:\/\/127\.0\.0\.1:49152\/cb\?/);
  });
});
