import type { FastifyRequest } from 'fastify';
import { AppError } from 'src/common/errors/app-error';

/**
 * The fields of a posted HTML form: `application/x-www-form-urlencoded` only, each field a single string
 * (a repeated field is refused), bounded.
 */
export function formFields(request: FastifyRequest): Record<string, string> {
  const type = request.headers['content-type'];
  if (typeof type !== 'string' || !/^application\/x-www-form-urlencoded\b/i.test(type)) {
    throw new AppError('BAD_INPUT', 'FORM_INVALID', 'The form must be sent as a web form.');
  }
  const out: Record<string, string> = {};
  const body = request.body;
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v !== 'string' || v.length > 4096) {
        throw new AppError('BAD_INPUT', 'FORM_INVALID', 'The form was not sent as expected.');
      }
      out[k] = v;
    }
  }
  return out;
}

const AUTHORIZE_PATH = '/oauth2/authorize';

/**
 * A `return_to` we may redirect to after sign-in: only a relative URL of our own authorization endpoint
 * (`/oauth2/authorize` or `/oauth2/authorize?…`), never anything that a browser could read as another
 * host (`//`, `\`, a scheme, control characters). Undefined for an absent value; null for a refused one.
 */
export function safeReturnTo(value: unknown): string | undefined | null {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 4096) return null;
  if (value !== AUTHORIZE_PATH && !value.startsWith(`${AUTHORIZE_PATH}?`)) return null;
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\#]/.test(value)) return null;
  return value;
}
