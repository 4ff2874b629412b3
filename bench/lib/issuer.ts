import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startStaticJson } from './static-server';

export const AUDIENCE = 'bridgekeeper-bench';
const ALG = 'RS256';
const KID = 'bench-1';

export interface LocalIssuer {
  /** The exact `iss` of its tokens, also its base URL. */
  issuer: string;
  jwksUrl: string;
  /** A fresh RS256 token for `sub`, valid for an hour, with iss/aud/sub/iat/exp. */
  sign(sub: string): Promise<string>;
}

/**
 * A local issuer: an RS256 key pair generated for this run, its public key served as a JWKS by a bare
 * node:http server in its own process, and a signer for tokens in the benchmark process.
 */
export async function startIssuer(): Promise<LocalIssuer> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: ALG, use: 'sig' };
  const { url } = await startStaticJson('issuer (JWKS)', JSON.stringify({ keys: [jwk] }));
  return {
    issuer: url,
    jwksUrl: `${url}/jwks`,
    sign: (sub) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: ALG, kid: KID, typ: 'JWT' })
        .setIssuer(url)
        .setAudience(AUDIENCE)
        .setSubject(sub)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey);
    },
  };
}

/** Signs one token per subject, `concurrency` at a time (jose signs through WebCrypto, off-thread). */
export async function signAll(
  issuer: LocalIssuer,
  subjects: string[],
  concurrency = 16,
): Promise<string[]> {
  const tokens = new Array<string>(subjects.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < subjects.length) {
        const i = next++;
        tokens[i] = await issuer.sign(subjects[i]);
      }
    }),
  );
  return tokens;
}
