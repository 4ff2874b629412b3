/**
 * The console's only way to the server: POST /graphql with the in-memory access token; failures are
 * ApiErrors (api/errors.ts); a 503 turns the shell's read-only banner on until the next success.
 */
import { accessToken, renew, signIn } from '../auth';
import { ApiError, fieldErrorsOf, type GraphqlError } from './errors';
import type { Operation } from './generated';

export { ApiError, formErrors, type FormErrors } from './errors';

type Listener = (unavailable: boolean) => void;
const listeners = new Set<Listener>();
let unavailable = false;

/** The shell's read-only banner listens here: true after a 503, false after the next success. */
export function onAvailability(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const retryListeners = new Set<() => void>();

/** Every query on screen listens here: the banner's Retry loads them all again. */
export function onRetry(listener: () => void): () => void {
  retryListeners.add(listener);
  return () => retryListeners.delete(listener);
}

export function retryAll(): void {
  for (const l of retryListeners) l();
}

function setUnavailable(value: boolean): void {
  if (value === unavailable) return;
  unavailable = value;
  for (const l of listeners) l(value);
}

async function post(query: string, variables: unknown): Promise<Response> {
  const token = accessToken();
  return fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    credentials: 'omit',
    cache: 'no-store',
  });
}

/** Runs a typed operation; resolves with its data or throws an ApiError. */
export async function gql<R, V>(op: Operation<R, V>, variables?: V): Promise<R> {
  let res: Response;
  try {
    res = await post(op.query, variables ?? {});
    if (res.status === 401 && (await renew())) res = await post(op.query, variables ?? {});
  } catch {
    setUnavailable(true);
    throw new ApiError('The server cannot be reached.', 'NETWORK', true);
  }
  if (res.status === 401) {
    await signIn();
  }
  let body: { data?: R | null; errors?: GraphqlError[] } | undefined;
  try {
    body = (await res.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const errors = body?.errors ?? [];
  const codes = errors.map((e) => e.extensions?.code);
  if (res.status === 503 || codes.includes('SERVICE_UNAVAILABLE')) {
    setUnavailable(true);
    throw new ApiError(
      'The server is temporarily unavailable (503). Showing what was loaded; changes are paused.',
      'SERVICE_UNAVAILABLE',
      true,
    );
  }
  if (codes.includes('UNAUTHENTICATED')) {
    if (await renew()) return gql(op, variables);
    await signIn();
  }
  setUnavailable(false);
  if (errors.length > 0 || !body?.data) {
    const first = errors[0];
    throw new ApiError(
      errors.map((e) => e.message).join(' ') || `The server answered ${res.status}.`,
      first?.extensions?.errorCode ?? first?.extensions?.code,
      false,
      fieldErrorsOf(errors),
    );
  }
  return body.data;
}
