import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, type JWK, SignJWT, type JWTPayload } from 'jose';
import type { TrustedIssuerSpec } from './bridgekeeper';
import { freePort } from './ports';

export interface StubKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicJwk: JWK;
}

export type JwksMode = 'ok' | 'error' | 'down';

/**
 * A local issuer the test controls: its own key pairs, a JWKS endpoint that can be switched to failing,
 * a fetch counter, and a signer for well-formed, forged and malformed tokens.
 */
export class JwksStub {
  readonly keys: StubKey[] = [];
  fetches = 0;
  mode: JwksMode = 'ok';
  private server!: Server;
  issuer = '';
  jwksUrl = '';

  /** The key `token()` signs with unless told otherwise; `addKey` publishes more keys without changing it. */
  primary!: StubKey;

  /** This stub as a configured trusted issuer whose tokens carry `audience`. */
  trustedIssuer(
    name: string,
    audience: string,
    extra: Partial<TrustedIssuerSpec> = {},
  ): TrustedIssuerSpec {
    return { name, issuer: this.issuer, jwks: this.jwksUrl, audiences: audience, ...extra };
  }

  static async start(): Promise<JwksStub> {
    const stub = new JwksStub();
    stub.primary = await stub.addKey('RS256');
    const port = await freePort();
    stub.issuer = `http://127.0.0.1:${port}/stub`;
    stub.jwksUrl = `http://127.0.0.1:${port}/stub/jwks`;
    stub.server = createServer((req, res) => {
      if (req.url !== '/stub/jwks') {
        res.writeHead(404).end();
        return;
      }
      stub.fetches++;
      if (stub.mode === 'down') {
        req.socket.destroy();
        return;
      }
      if (stub.mode === 'error') {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: stub.keys.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => stub.server.listen(port, '127.0.0.1', resolve));
    return stub;
  }

  async addKey(alg: 'RS256' | 'ES256' = 'RS256', kid?: string): Promise<StubKey> {
    const pair =
      alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicJwk = await exportJWK(pair.publicKey);
    const key: StubKey = {
      kid: kid ?? `k${this.keys.length + 1}-${Math.random().toString(36).slice(2, 8)}`,
      alg,
      privateKey: pair.privateKey,
      publicJwk: { ...publicJwk, kid: kid ?? '', alg, use: 'sig' },
    };
    key.publicJwk.kid = key.kid;
    this.keys.push(key);
    return key;
  }

  /** Replaces every key by a new one (a rotation where the old key disappears). */
  async rotate(): Promise<StubKey> {
    this.keys.splice(0, this.keys.length);
    this.primary = await this.addKey('RS256');
    return this.primary;
  }

  /** Signs a token with a key of this stub; claims default to a valid access token for `audience`. */
  async token(
    audience: string,
    claims: JWTPayload = {},
    options: { key?: StubKey; header?: Record<string, unknown>; expiresIn?: number } = {},
  ): Promise<string> {
    const key = options.key ?? this.primary;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: this.issuer,
      aud: audience,
      sub: 'stub-user',
      iat: now,
      exp: now + (options.expiresIn ?? 300),
      ...claims,
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
      .sign(key.privateKey);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Builds a compact JWS from a header and payload, signing with node:crypto directly (no jose checks). */
export function rawJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signer: (input: Buffer) => Buffer,
): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${signer(Buffer.from(input)).toString('base64url')}`;
}

export function rsaSigner(privateKey: KeyObject): (input: Buffer) => Buffer {
  return (input) => sign('sha256', input, privateKey);
}

/** A 1024-bit RSA key pair: below jose's 2048-bit minimum (its verify throws a TypeError for it). */
export async function weakRsaKey(kid: string): Promise<StubKey> {
  const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const privateKey = createPrivateKey(pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const jwk = await exportJWK(createPublicKey(privateKey));
  return { kid, alg: 'RS256', privateKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<
    string,
    unknown
  >;
}
