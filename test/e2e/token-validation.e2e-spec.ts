import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, SignJWT } from 'jose';
import { INVALID_TOKEN_DESCRIPTION } from 'src/common/errors/app-error';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub, rawJws, rsaSigner, weakRsaKey } from '../support/jwks-stub';
import { OidcIdp } from '../support/oidc-provider';
import { freePort } from '../support/ports';

// SECURITY.md rules 1-4 and 14, end to end: every token below is refused with the same 401, and no
// token ever reaches a log line.
const STUB_AUDIENCE = 'bridgekeeper-stub';

describe('token validation (trusted issuers)', () => {
  let idp: OidcIdp;
  let stub: JwksStub;
  let bk: RunningBridgekeeper;
  /** An HTTP server standing for an attacker's key host: it must never be called. */
  let attacker: Server;
  let attackerUrl: string;
  let attackerHits = 0;
  const tokensSeen: string[] = [];

  const remember = (token: string) => {
    tokensSeen.push(token);
    return token;
  };

  beforeAll(async () => {
    [idp, stub] = await Promise.all([OidcIdp.start(), JwksStub.start()]);
    const port = await freePort();
    attacker = createServer((_req, res) => {
      attackerHits++;
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => attacker.listen(port, '127.0.0.1', r));
    attackerUrl = `http://127.0.0.1:${port}`;
    bk = await startBridgekeeper({
      issuers: [
        idp.trustedIssuer(),
        stub.trustedIssuer('stub', STUB_AUDIENCE, { maxTokenAge: 3600 }),
      ],
    });
  });

  afterAll(async () => {
    await bk?.close();
    await Promise.all([idp?.stop(), stub?.stop()]);
    attacker?.close();
  });

  async function expectInvalid(token: string): Promise<void> {
    remember(token);
    const res = await bk.get('/oauth2/userinfo', token);
    const text = await res.text();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(JSON.parse(text)).toEqual({
      error: 'invalid_token',
      error_description: INVALID_TOKEN_DESCRIPTION,
    });
    // Rule 4: never echo the token or any of its parts back.
    for (const part of token.split('.')) if (part.length > 8) expect(text).not.toContain(part);
  }

  const now = () => Math.floor(Date.now() / 1000);

  describe('accepted tokens', () => {
    it('accepts an access token from the real OpenID provider and returns the actor', async () => {
      const token = remember(
        await idp.login('alice', {
          email: 'alice@example.com',
          email_verified: true,
          name: 'Alice Liddell',
          given_name: 'Alice',
          family_name: 'Liddell',
          preferred_username: 'alice',
        }),
      );
      const res = await bk.get('/oauth2/userinfo', token);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toContain('no-store');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toEqual({
        sub: expect.stringMatching(/^[0-9a-f-]{36}$/),
        issuer: 'idp',
        subject: 'alice',
        email: 'alice@example.com',
        email_verified: true,
        name: 'Alice Liddell',
        given_name: 'Alice',
        family_name: 'Liddell',
        preferred_username: 'alice',
        roles: [],
      });
      const post = await fetch(`${bk.url}/oauth2/userinfo`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(post.status).toBe(200);
      expect(((await post.json()) as { sub: string }).sub).toBe(body.sub);
    });

    it('accepts a machine token (client_credentials) from the real OpenID provider', async () => {
      const token = remember(await idp.clientCredentials());
      const res = await bk.get('/oauth2/userinfo', token);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ issuer: 'idp', subject: 'bk-test' });
    });

    it('accepts the scheme case-insensitively (RFC 6750) and a token within clock tolerance', async () => {
      const token = remember(
        await stub.token(STUB_AUDIENCE, { sub: 'tolerant', exp: now() - 30, iat: now() - 300 }),
      );
      const res = await bk.get('/oauth2/userinfo', undefined, { authorization: `bearer ${token}` });
      expect(res.status).toBe(200);
    });
  });

  describe('missing credentials (RFC 6750 §3.1)', () => {
    it.each([
      ['no Authorization header', {}],
      ['another scheme', { authorization: 'Basic YWxpY2U6c2VjcmV0' }],
    ])('%s → 401 with a bare Bearer challenge', async (_name, headers) => {
      const res = await bk.get('/oauth2/userinfo', undefined, headers as Record<string, string>);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      const body = (await res.json()) as { error: string };
      expect(body.error).not.toBe('invalid_token');
    });

    it('ignores an access_token query parameter', async () => {
      const token = remember(await stub.token(STUB_AUDIENCE));
      const res = await bk.get(`/oauth2/userinfo?access_token=${token}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    });
  });

  describe('rule 1: keys belong to one issuer, matched by exact iss', () => {
    it('refuses an unknown iss without fetching anything', async () => {
      const before = stub.fetches;
      await expectInvalid(await stub.token(STUB_AUDIENCE, { iss: `${attackerUrl}/tenant` }));
      expect(stub.fetches).toBe(before);
      expect(attackerHits).toBe(0);
    });

    it.each([
      ['a trailing slash', (iss: string) => `${iss}/`],
      ['different case', (iss: string) => iss.toUpperCase()],
      ['surrounding whitespace', (iss: string) => ` ${iss}`],
    ])('refuses iss with %s', async (_name, variant) => {
      await expectInvalid(await stub.token(STUB_AUDIENCE, { iss: variant(stub.issuer) }));
    });

    it("refuses a token claiming issuer A but signed with issuer B's key (no key pooling)", async () => {
      // The stub's key is trusted for the stub issuer; a token naming the IdP as issuer must be checked
      // against the IdP's keys only, whatever kid it carries.
      const idpKids = (
        (await (await fetch(idp.jwksUrl)).json()) as { keys: { kid: string }[] }
      ).keys.map((k) => k.kid);
      await expectInvalid(
        await stub.token(idp.audience, { iss: idp.issuer, sub: 'alice' }, { header: {} }),
      );
      await expectInvalid(
        await stub.token(
          idp.audience,
          { iss: idp.issuer, sub: 'alice' },
          { header: { kid: idpKids[0] } },
        ),
      );
    });
  });

  describe('rule 2: every verification option is set', () => {
    it.each([
      ['wrong audience', () => ({ aud: 'someone-else' })],
      ['no audience', () => ({ aud: undefined })],
      ['expired beyond tolerance', () => ({ exp: now() - 120, iat: now() - 600 })],
      ['issued in the future', () => ({ iat: now() + 600, exp: now() + 900 })],
      ['older than max token age', () => ({ iat: now() - 7200, exp: now() + 300 })],
      ['no exp', () => ({ exp: undefined })],
      ['no iat', () => ({ iat: undefined })],
      ['no sub', () => ({ sub: undefined })],
      ['empty sub', () => ({ sub: '' })],
      ['oversized sub', () => ({ sub: 'x'.repeat(1000) })],
      ['not yet valid (nbf)', () => ({ nbf: now() + 600 })],
    ])('refuses a token with %s', async (_name, claims) => {
      await expectInvalid(await stub.token(STUB_AUDIENCE, claims()));
    });

    it('refuses an algorithm outside the allow-list, even with a key the JWKS publishes', async () => {
      const ecKey = await stub.addKey('ES256');
      await expectInvalid(await stub.token(STUB_AUDIENCE, {}, { key: ecKey }));
    });

    it('refuses HS256 signed with the public key as the HMAC secret (algorithm confusion)', async () => {
      const jwk = stub.primary.publicJwk;
      const secret = JSON.stringify(jwk);
      const token = rawJws(
        { alg: 'HS256', typ: 'JWT', kid: stub.primary.kid },
        { iss: stub.issuer, aud: STUB_AUDIENCE, sub: 'mallory', iat: now(), exp: now() + 300 },
        (input) => createHmac('sha256', secret).update(input).digest(),
      );
      await expectInvalid(token);
    });

    it('refuses alg none and an empty signature', async () => {
      const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const payload = {
        iss: stub.issuer,
        aud: STUB_AUDIENCE,
        sub: 'mallory',
        iat: now(),
        exp: now() + 300,
      };
      await expectInvalid(`${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`);
      await expectInvalid(`${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.AAAA`);
      await expectInvalid(`${enc({ alg: 'RS256', kid: stub.primary.kid })}.${enc(payload)}.`);
    });

    it('refuses a tampered payload', async () => {
      const token = await stub.token(STUB_AUDIENCE, { sub: 'bob' });
      const [h, , s] = token.split('.');
      const forged = Buffer.from(
        JSON.stringify({
          iss: stub.issuer,
          aud: STUB_AUDIENCE,
          sub: 'admin',
          iat: now(),
          exp: now() + 300,
        }),
      ).toString('base64url');
      await expectInvalid(`${h}.${forged}.${s}`);
    });
  });

  describe('rule 3: keys only from the configured JWKS; compact JWS only', () => {
    it('ignores jwk, jku, x5u and x5c headers pointing at an attacker key', async () => {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const attackerJwk = { ...(await exportJWK(pair.publicKey)), kid: 'attacker' };
      const claims = {
        iss: stub.issuer,
        aud: STUB_AUDIENCE,
        sub: 'mallory',
        iat: now(),
        exp: now() + 300,
      };
      const sign = (header: Record<string, unknown>) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'RS256', ...header }).sign(pair.privateKey);
      await expectInvalid(await sign({ jwk: attackerJwk }));
      await expectInvalid(await sign({ kid: 'attacker', jku: `${attackerUrl}/jwks` }));
      await expectInvalid(await sign({ kid: 'attacker', x5u: `${attackerUrl}/cert.pem` }));
      await expectInvalid(
        await sign({ kid: 'attacker', x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A'] }),
      );
      expect(attackerHits).toBe(0);
    });

    it('treats kid as an opaque, bounded hint (no path, no query, no oversize)', async () => {
      await expectInvalid(
        await stub.token(STUB_AUDIENCE, {}, { header: { kid: '../../jwks?x=1' } }),
      );
      await expectInvalid(
        await stub.token(STUB_AUDIENCE, {}, { header: { kid: 'k'.repeat(300) } }),
      );
      await expectInvalid(await stub.token(STUB_AUDIENCE, {}, { header: { kid: 42 } }));
    });

    it('refuses JWE, nested JWTs, unknown crit and structural garbage', async () => {
      await expectInvalid('eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y2lwaGVy.dGFn');
      await expectInvalid(await stub.token(STUB_AUDIENCE, {}, { header: { cty: 'JWT' } }));
      await expectInvalid(
        rawJws(
          { alg: 'RS256', kid: stub.primary.kid, crit: ['exp2'], exp2: 1 },
          { iss: stub.issuer, aud: STUB_AUDIENCE, sub: 'crit', iat: now(), exp: now() + 300 },
          rsaSigner(stub.primary.privateKey),
        ),
      );
      await expectInvalid('not-a-jwt');
      await expectInvalid('a.b');
      await expectInvalid('e30.e30.e30.e30');
      await expectInvalid('!!!.###.$$$');
      await expectInvalid(`${Buffer.from('[1]').toString('base64url')}.e30.AAAA`);
    });

    it('refuses a token over 8 KiB before verifying it', async () => {
      const big = await stub.token(STUB_AUDIENCE, { pad: 'p'.repeat(9000) });
      expect(big.length).toBeGreaterThan(8192);
      await expectInvalid(big);
    });
  });

  describe('rule 4: library errors are 401, never 500', () => {
    it('maps a JWKS key below 2048 bits (jose TypeError) to 401', async () => {
      const weak = await weakRsaKey('weak-1024');
      stub.keys.push(weak);
      // Unknown kid → one refetch (first one for this kid, cooldown not yet used by this test file).
      const token = rawJws(
        { alg: 'RS256', kid: weak.kid, typ: 'JWT' },
        { iss: stub.issuer, aud: STUB_AUDIENCE, sub: 'weak', iat: now(), exp: now() + 300 },
        rsaSigner(weak.privateKey),
      );
      await expectInvalid(token);
    });

    it('answers GraphQL with the same 401 for an invalid token', async () => {
      const token = remember(await stub.token('someone-else'));
      const res = await bk.graphql('{ me { id } }', token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });
  });

  describe('rule 14: no token in logs', () => {
    it('has logged requests, none of them with a token or its signature', () => {
      expect(bk.logs.length).toBeGreaterThan(10);
      const all = bk.logs.join('\n');
      expect(all).toContain('"route":"/oauth2/userinfo"');
      for (const token of tokensSeen) {
        const signature = token.split('.')[2];
        expect(all).not.toContain(token);
        if (signature && signature.length > 16) expect(all).not.toContain(signature);
      }
      expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    });

    it('counts validations by issuer and reason in /metrics, with no token in labels', async () => {
      const text = await (await bk.get('/metrics')).text();
      expect(text).toMatch(/issuer="stub",outcome="invalid",reason="claim_aud"/);
      expect(text).toMatch(/issuer="unknown",outcome="invalid",reason="unknown_issuer"/);
      expect(text).toMatch(/issuer="idp",outcome="valid",reason="verified"/);
      expect(text).not.toMatch(/eyJ/);
    });
  });
});
