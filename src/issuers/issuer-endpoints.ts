import type { JSONWebKeySet, JWK } from 'jose';
import {
  OutboundError,
  type OutboundHttpService,
  type OutboundResponse,
} from 'src/outbound/outbound-http.service';

const MAX_KEYS = 100;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * Why an issuer endpoint (JWKS or userinfo) failed, as an admin needs it: the HTTP status when the server
 * answered, or the network error code (ECONNREFUSED, ENOTFOUND, TIMEOUT...) when it did not. `message` is
 * a short sentence that never contains the URL, a token or a response body.
 */
export interface EndpointProblem {
  message: string;
  httpStatus?: number;
  networkError?: string;
}

/** A bounded word for metrics: the outbound failure, `http_error` (a refused status) or `invalid`. */
export type EndpointFailure = OutboundError['failure'] | 'http_error' | 'invalid';

export class EndpointError extends Error {
  constructor(
    readonly failure: EndpointFailure,
    readonly problem: EndpointProblem,
  ) {
    super(problem.message);
    this.name = 'EndpointError';
  }
}

/**
 * Fetches and checks an issuer's key set through the outbound policy (timeout, size cap, no redirects,
 * no link-local addresses). Only public signing keys of a type one of `algorithms` can use are kept;
 * none is a failure, as is anything but a 200 with a JSON key set.
 */
export async function fetchKeySet(
  http: OutboundHttpService,
  url: string,
  algorithms: readonly string[],
): Promise<JSONWebKeySet> {
  const res = await call(http, url, 'JWKS');
  if (res.status !== 200) {
    throw new EndpointError('http_error', {
      message: `JWKS answered HTTP ${res.status}`,
      httpStatus: res.status,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new EndpointError('invalid', {
      message: 'JWKS answered HTTP 200 but is not JSON',
      httpStatus: 200,
    });
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) {
    throw new EndpointError('invalid', {
      message: 'JWKS answered HTTP 200 but has no "keys" array',
      httpStatus: 200,
    });
  }
  const usable = keys
    .filter(
      (k): k is JWK => typeof k === 'object' && k !== null && typeof (k as JWK).kty === 'string',
    )
    .filter((k) => k.use === undefined || k.use === 'sig')
    // A JWKS must publish public keys only; drop any private or symmetric material it leaks.
    .filter((k) => !PRIVATE_JWK_MEMBERS.some((m) => m in k))
    .filter((k) => algorithms.some((alg) => keyFits(k, alg)))
    .slice(0, MAX_KEYS);
  if (usable.length === 0) {
    throw new EndpointError('invalid', {
      message: `JWKS answered HTTP 200 but has no public signing key for ${algorithms.join(', ')}`,
      httpStatus: 200,
    });
  }
  return { keys: usable };
}

/**
 * Whether the userinfo endpoint is there: any HTTP answer of the server counts (a 401 to a request
 * without a token is the normal one); a network error, a redirect or a 5xx does not.
 */
export async function checkUserinfoReachable(
  http: OutboundHttpService,
  url: string,
): Promise<void> {
  const res = await call(http, url, 'userinfo endpoint');
  if (res.status >= 500) {
    throw new EndpointError('http_error', {
      message: `userinfo endpoint answered HTTP ${res.status}`,
      httpStatus: res.status,
    });
  }
}

async function call(
  http: OutboundHttpService,
  url: string,
  what: string,
): Promise<OutboundResponse> {
  try {
    return await http.request(url);
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    const networkError = err.failure === 'network' ? err.message : err.failure.toUpperCase();
    const why: Record<OutboundError['failure'], string> = {
      network: `cannot be reached (${networkError})`,
      timeout: 'did not answer in time',
      too_large: 'answered more than the response size limit',
      refused_address: 'points at an address outbound calls may not reach',
      redirect: 'answered with a redirect (redirects are not followed)',
      bad_url: 'is not a valid http(s) URL',
    };
    throw new EndpointError(err.failure, { message: `${what} ${why[err.failure]}`, networkError });
  }
}

/** Whether a JWK can verify signatures of `alg` (its own `alg` if it names one, else its type). */
function keyFits(k: JWK, alg: string): boolean {
  if (typeof k.alg === 'string') return k.alg === alg;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return k.kty === 'RSA';
  if (alg === 'ES256') return k.kty === 'EC' && k.crv === 'P-256';
  if (alg === 'ES384') return k.kty === 'EC' && k.crv === 'P-384';
  if (alg === 'ES512') return k.kty === 'EC' && k.crv === 'P-521';
  if (alg === 'EdDSA') return k.kty === 'OKP';
  return false;
}
