import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserSession } from 'src/browser-sessions/browser-sessions.service';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import { EndSessionService } from 'src/oauth/end-session.service';
import type { IdTokenHint } from 'src/oauth/id-tokens.service';

const client = {
  clientId: 'bkc_spa',
  postLogoutRedirectUris: ['https://app.example.com/bye'],
} as unknown as ClientSnapshot;
const current: BrowserSession = { id: 'sid-1', actorId: 'a', authTime: 1, amr: ['pwd'] };

function setup(session: BrowserSession | null, hint?: IdTokenHint) {
  const ended: string[] = [];
  const revoked: string[] = [];
  const cleared: number[] = [];
  const service = new EndSessionService(
    {
      current: () => Promise.resolve(session),
      end: (id: string) => Promise.resolve(void ended.push(id)),
      clearCookie: () => void cleared.push(1),
    } as never,
    {
      findByClientId: (id: string) => Promise.resolve(id === 'bkc_spa' ? client : undefined),
    } as never,
    { revokeBrowserSession: (id: string) => Promise.resolve(revoked.push(id)) } as never,
    { verifyHint: (t: string) => Promise.resolve(t === 'good' ? hint : undefined) } as never,
    {
      upstreamLogout: () => Promise.resolve(undefined),
      upstreamOrigin: () => Promise.resolve(undefined),
    } as never,
  );
  const run = (p: Record<string, string>, confirm?: (sid: string) => boolean) =>
    service.endSession({} as FastifyRequest, {} as FastifyReply, p, confirm);
  return { run, ended, revoked, cleared };
}

describe('EndSessionService', () => {
  it('with a valid hint ends its session and grants, then returns to the registered URI with state', async () => {
    const s = setup(current, { sub: 'a', clientId: 'bkc_spa', sid: 'sid-1' });
    const out = await s.run({
      id_token_hint: 'good',
      post_logout_redirect_uri: 'https://app.example.com/bye',
      state: 'x',
    });
    expect(out).toEqual({ kind: 'done', location: 'https://app.example.com/bye?state=x' });
    expect(s.ended).toEqual(['sid-1']);
    expect(s.revoked).toEqual(['sid-1']);
    expect(s.cleared).toHaveLength(1);
  });

  it.each([
    [{ id_token_hint: 'forged' }],
    [{ id_token_hint: 'good', client_id: 'bkc_other' }],
    [{ id_token_hint: 'good', post_logout_redirect_uri: 'https://evil.example.com/' }],
    [{ post_logout_redirect_uri: 'https://app.example.com/bye' }],
    [{ client_id: 'bkc_spa', post_logout_redirect_uri: 'https://app.example.com/bye/' }],
  ])('refuses %j with a page and ends nothing', async (p) => {
    const s = setup(current, { sub: 'a', clientId: 'bkc_spa', sid: 'sid-1' });
    expect((await s.run(p)).kind).toBe('page');
    expect(s.ended).toEqual([]);
  });

  it('without a hint asks first, and ends the session only on a genuine confirmation', async () => {
    const s = setup(current);
    const p = { client_id: 'bkc_spa', post_logout_redirect_uri: 'https://app.example.com/bye' };
    expect(await s.run(p)).toMatchObject({ kind: 'confirm', sessionId: 'sid-1' });
    expect(await s.run(p, () => false)).toMatchObject({ kind: 'page', status: 403 });
    expect(s.ended).toEqual([]);
    expect(await s.run(p, (sid) => sid === 'sid-1')).toEqual({
      kind: 'done',
      location: 'https://app.example.com/bye',
    });
    expect(s.ended).toEqual(['sid-1']);
  });

  it('without a session there is nothing to end', async () => {
    const s = setup(null);
    expect(await s.run({})).toEqual({ kind: 'done', location: undefined });
    expect(s.ended).toEqual([]);
  });
});
