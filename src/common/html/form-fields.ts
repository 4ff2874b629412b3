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
