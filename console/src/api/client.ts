import { accessToken, renew, signIn } from '../auth';
import type { Operation } from './generated';

/**
 * The console's only way to the server: POST /graphql with the in-memory access token. One error type
 * for every failure, so pages show them one way: `unavailable` (the API answered 503: the shell shows
 * its read-only banner), `fields` (messages about one input field, from the API's `field: message`
 * errors), `message` for the rest.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly unavailable: boolean,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

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

interface GraphqlError {
  message: string;
  extensions?: { code?: string; errorCode?: string };
}

/** `field: message` → { field: message } (`input.` dropped: `input.name` is the form's `name`). */
export function fieldErrorsOf(errors: GraphqlError[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const e of errors) {
    // Several problems come joined: "name: …; jwksUrl: …".
    for (const part of e.message.split(/; (?=[A-Za-z][A-Za-z0-9_.[\]]*: )/)) {
      const m = /^([A-Za-z][A-Za-z0-9_.[\]]*): (.+)$/s.exec(part);
      if (m) fields[m[1].replace(/^input\./, '')] ??= m[2];
    }
  }
  return fields;
}

export interface FormErrors {
  /** Messages shown next to the form's own fields. */
  fields: Record<string, string>;
  /** Everything else, shown above the form's buttons. */
  form?: string;
}

/** Splits an error for a form: the API's messages about `known` fields go next to them. */
export function formErrors(err: unknown, known: readonly string[]): FormErrors {
  if (!(err instanceof ApiError))
    return { fields: {}, form: 'Something went wrong. Please retry.' };
  const fields: Record<string, string> = {};
  for (const [name, message] of Object.entries(err.fields)) {
    if (known.includes(name)) fields[name] = message;
  }
  if (Object.keys(fields).length === 0) return { fields, form: err.message };
  const rest = Object.entries(err.fields)
    .filter(([name]) => !known.includes(name))
    .map(([name, message]) => `${name}: ${message}`);
  return { fields, form: rest.length > 0 ? rest.join(' ') : undefined };
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
