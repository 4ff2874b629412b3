import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * What a route takes as its request body:
 * - `json`: `application/json` holding a JSON object (never an array, string, number or `null`);
 * - `form`: `application/x-www-form-urlencoded`, only on the OAuth/OIDC endpoints whose RFCs define it;
 * - `empty`: no body at all.
 */
export type BodyKind = 'json' | 'form' | 'empty';

/** Every route that declares nothing takes a JSON object (REST admin routes and `POST /graphql`). */
const DEFAULT_KINDS: readonly BodyKind[] = ['json'];
const MEDIA_TYPES: Record<Exclude<BodyKind, 'empty'>, string> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
};
const NOT_AN_OBJECT = 'The body must be a JSON object';
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

interface BodyRouteConfig {
  acceptsBody?: readonly BodyKind[];
}

/** Declares the bodies a route takes (see {@link BodyKind}); without it a route takes a JSON object. */
export const AcceptsBody = (...kinds: BodyKind[]) =>
  RouteConfig({ acceptsBody: kinds } satisfies BodyRouteConfig);

function acceptedKinds(request: FastifyRequest): readonly BodyKind[] | undefined {
  // Unmatched requests are left to the 404 answer.
  if (request.routeOptions.url === undefined || !METHODS_WITH_BODY.has(request.method))
    return undefined;
  const config = request.routeOptions.config as BodyRouteConfig | undefined;
  return config?.acceptsBody ?? DEFAULT_KINDS;
}

/** Fastify's own rule for "no body to parse": no Content-Type, no Transfer-Encoding, no length. */
function kindOf(request: FastifyRequest): BodyKind | undefined {
  const { 'content-type': contentType, 'content-length': length } = request.headers;
  if (
    contentType === undefined &&
    request.headers['transfer-encoding'] === undefined &&
    (length === undefined || length === '0')
  )
    return 'empty';
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === MEDIA_TYPES.json) return 'json';
  if (mediaType === MEDIA_TYPES.form) return 'form';
  return undefined;
}

function refusal(kinds: readonly BodyKind[], sent: BodyKind | undefined): Error {
  if (sent === 'empty' && kinds.includes('json')) return new BadRequestException(NOT_AN_OBJECT);
  const types = kinds.flatMap((k) => (k === 'empty' ? [] : [MEDIA_TYPES[k]]));
  const wanted = `The body must be ${types.join(' or ')}${kinds.includes('empty') ? ' (or none)' : ''}`;
  // The OAuth endpoints answer in their RFCs' terms (RFC 6749 §5.2, RFC 6750 §3.1): 400 invalid_request.
  return kinds.includes('form')
    ? new BadRequestException(wanted)
    : new UnsupportedMediaTypeException(wanted);
}

/**
 * The one place request bodies are checked against what their route takes, before any guard, pipe or
 * handler: a media type the route does not take is refused before it is parsed (415, or 400 on the
 * form-encoded OAuth endpoints), and a JSON route's body that is not a JSON object is a 400 rather than
 * a list of every field the object lacks. Refusals go through the one REST error mapping.
 */
export function registerBodyRules(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const kinds = acceptedKinds(request);
    const kind = kinds && kindOf(request);
    done(kinds && (kind === undefined || !kinds.includes(kind)) ? refusal(kinds, kind) : undefined);
  });
  fastify.addHook('preValidation', (request, _reply, done) => {
    const body: unknown = request.body;
    const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
    const jsonNotObject = acceptedKinds(request) && kindOf(request) === 'json' && !isObject;
    done(jsonNotObject ? new BadRequestException(NOT_AN_OBJECT) : undefined);
  });
}
