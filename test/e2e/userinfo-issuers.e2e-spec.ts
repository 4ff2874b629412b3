import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { disableActor } from '../support/gql-ops';
import { type RedisServer, startRedis } from '../support/redis';
import { JwksStub } from '../support/jwks-stub';
import { waitFor } from '../support/ports';
import { UserinfoStub } from '../support/userinfo-stub';
import { userinfo } from '../support/rest-ops';

// Issue 3 §3 and SECURITY rule 7: issuers validated by calling their userinfo endpoint.
describe.each(['memory', 'redis'] as const)(
  'userinfo-validated issuers (%s cache)',
  (cacheKind) => {
    let redis: RedisServer | undefined;
    let med: UserinfoStub;
    let other: UserinfoStub;
    let jwksIssuer: JwksStub;
    let bk: RunningBridgekeeper;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const MED_ISS = 'https://med.example.com';
    const OTHER_ISS = 'https://other.example.com';

    beforeAll(async () => {
      redis = cacheKind === 'redis' ? await startRedis() : undefined;
      [med, other, jwksIssuer] = await Promise.all([
        UserinfoStub.start(),
        UserinfoStub.start(),
        JwksStub.start(),
      ]);
      bk = await startBridgekeeper({
        issuers: [
          { name: 'med', issuer: MED_ISS, userinfo: med.url, opaque: true },
          { name: 'other', issuer: OTHER_ISS, userinfo: other.url },
          jwksIssuer.trustedIssuer('stub', 'aud'),
        ],
        admins: ['med:med-admin'],
        redisUrl: redis?.url,
      });
    });

    afterAll(async () => {
      await bk?.close();
      await Promise.all([med?.stop(), other?.stop(), jwksIssuer?.stop()]);
      await redis?.stop();
    });

    /** A JWT from an IdP whose keys Bridgekeeper does not have: only its userinfo endpoint can vouch. */
    const jwt = (iss: string, claims: Record<string, unknown> = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss, sub: 'u1', iat: now, exp: now + 600, ...claims })
        .setProtectedHeader({ alg: 'ES256' })
        .sign(privateKey);
    };
    const status = async (token: string) => (await bk.get('/oauth2/userinfo', token)).status;

    it('accepts a JWT its userinfo endpoint vouches for, taking identity from the answer, and caches it', async () => {
      const token = await jwt(MED_ISS, { sub: 'jo', email: 'forged@evil.example' });
      med.answers.set(token, {
        status: 200,
        body: { sub: 'jo', email: 'jo@med.example', name: 'Jo' },
      });
      const res = await bk.get('/oauth2/userinfo', token);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        issuer: 'med',
        subject: 'jo',
        email: 'jo@med.example',
        name: 'Jo',
      });
      for (let i = 0; i < 5; i++) expect(await status(token)).toBe(200);
      expect(med.calls(token)).toBe(1);
    });

    it('accepts an opaque token only through the one issuer configured for them', async () => {
      med.answers.set('opaque-abc.123', { status: 200, body: { sub: 'op-user' } });
      const res = await bk.get('/oauth2/userinfo', 'opaque-abc.123');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ issuer: 'med', subject: 'op-user' });
      expect(other.calls('opaque-abc.123')).toBe(0);
    });

    it('sends a token only to the userinfo endpoint of the issuer its own iss names', async () => {
      const token = await jwt(OTHER_ISS, { sub: 'o1' });
      other.answers.set(token, { status: 200, body: { sub: 'o1' } });
      expect(await status(token)).toBe(200);
      expect(med.calls(token)).toBe(0);
      // A JWT of a JWKS issuer, or of an unknown issuer, never reaches any userinfo endpoint.
      const signed = await jwksIssuer.token('aud', { sub: 'k1' });
      expect(await status(signed)).toBe(200);
      const unknown = await jwt('https://unknown.example.com');
      expect(await status(unknown)).toBe(401);
      for (const t of [signed, unknown]) {
        expect(med.calls(t) + other.calls(t)).toBe(0);
      }
      // Nor does a JWE (its issuer is unknowable), even though an opaque issuer exists.
      const jwe = 'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y2lwaGVy.dGFn';
      expect(await status(jwe)).toBe(401);
      expect(med.calls(jwe)).toBe(0);
    });

    it('refuses a userinfo answer whose sub differs from the JWT sub', async () => {
      const token = await jwt(MED_ISS, { sub: 'alice' });
      med.answers.set(token, { status: 200, body: { sub: 'mallory' } });
      expect(await status(token)).toBe(401);
    });

    it('refuses an expired JWT before calling the IdP', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await jwt(MED_ISS, { iat: now - 7200, exp: now - 3600 });
      med.answers.set(token, { status: 200, body: { sub: 'u1' } });
      expect(await status(token)).toBe(401);
      expect(med.calls(token)).toBe(0);
    });

    it('never trusts a cached answer past the token exp', async () => {
      const now = Math.floor(Date.now() / 1000);
      // Clock tolerance is 60 s: a token that expired 59 s ago is still accepted, then refused.
      const token = await jwt(MED_ISS, { sub: 'short', iat: now - 100, exp: now - 58 });
      med.answers.set(token, { status: 200, body: { sub: 'short' } });
      expect(await status(token)).toBe(200);
      await waitFor(
        'token past exp + tolerance',
        async () => Date.now() / 1000 > now + 3,
        10_000,
        200,
      );
      expect(await status(token)).toBe(401);
    });

    it('answers 401 when the IdP refuses the token, 503 when it fails or is down', async () => {
      const refused = await jwt(MED_ISS, { sub: 'r' });
      med.answers.set(refused, { status: 401, body: { error: 'invalid_token' } });
      expect(await status(refused)).toBe(401);

      const failing = await jwt(MED_ISS, { sub: 'f' });
      med.answers.set(failing, { status: 500, body: {} });
      const res = await bk.get('/oauth2/userinfo', failing);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);

      const garbage = await jwt(MED_ISS, { sub: 'g' });
      med.answers.set(garbage, { status: 200, body: ['not', 'an', 'object'] });
      expect(await status(garbage)).toBe(503);

      const cached = await jwt(MED_ISS, { sub: 'c' });
      med.answers.set(cached, { status: 200, body: { sub: 'c' } });
      expect(await status(cached)).toBe(200);
      med.down = true;
      try {
        expect(await status(await jwt(MED_ISS, { sub: 'd' }))).toBe(503);
        // Rule 20: tokens already validated keep working while the IdP is down.
        expect(await status(cached)).toBe(200);
      } finally {
        med.down = false;
      }
    });

    it('makes one IdP call for many concurrent requests with the same new token', async () => {
      const token = await jwt(MED_ISS, { sub: 'burst' });
      med.answers.set(token, { status: 200, body: { sub: 'burst' }, delayMs: 200 });
      const statuses = await Promise.all(Array.from({ length: 30 }, () => status(token)));
      expect(statuses).toEqual(Array(30).fill(200));
      expect(med.calls(token)).toBe(1);
    });

    it('makes one IdP call for a stream of requests that keeps arriving while the answer lands', async () => {
      // Requests that start every millisecond: some miss the verified-token cache just before the first
      // verdict reaches it, after the single flight settled. They must not ask the IdP again.
      const token = await jwt(MED_ISS, { sub: 'stream' });
      med.answers.set(token, { status: 200, body: { sub: 'stream' }, delayMs: 20 });
      const pending: Promise<number>[] = [];
      const until = Date.now() + 80;
      while (Date.now() < until) {
        pending.push(status(token), status(token));
        await new Promise((r) => setImmediate(r));
      }
      expect(new Set(await Promise.all(pending))).toEqual(new Set([200]));
      expect(med.calls(token)).toBe(1);
    });

    it('still checks the actor on a cache hit: a disabled actor is refused at once', async () => {
      const admin = await jwt(MED_ISS, { sub: 'med-admin' });
      med.answers.set(admin, { status: 200, body: { sub: 'med-admin' } });
      const token = await jwt(MED_ISS, { sub: 'to-disable' });
      med.answers.set(token, { status: 200, body: { sub: 'to-disable' } });
      const { body } = await userinfo<{ sub: string }>(bk, token);
      expect((await disableActor(bk, admin, body.sub)).status).toBe('DISABLED');
      expect(await status(token)).toBe(401);
      expect(med.calls(token)).toBe(1);
    });

    it('never logs a token it sent to an IdP', () => {
      const all = bk.logs.join('\n');
      for (const t of med.received.concat(other.received))
        if (t.length > 10) expect(all).not.toContain(t);
    });
  },
);
