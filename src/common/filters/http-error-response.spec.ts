import {
  BadRequestException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { AppError, databaseUnavailable } from 'src/common/errors/app-error';
import { httpErrorResponse } from 'src/common/filters/http-error-response';
import { invalidToken, TokenErrorCode } from 'src/token-validation/token-validation.errors';

describe('httpErrorResponse', () => {
  it('answers missing credentials with a bare Bearer challenge (RFC 6750 §3.1: no error code)', () => {
    const r = httpErrorResponse(new AppError('MISSING_CREDENTIALS', 'NO_TOKEN', 'Sign in first'));
    expect(r.status).toBe(401);
    expect(r.headers).toEqual({ 'www-authenticate': 'Bearer' });
    expect(r.body).toEqual({ error: 'unauthorized', error_description: 'Sign in first' });
    expect(r.errorId).toBeUndefined();
  });

  it('answers an invalid token with Bearer error="invalid_token" and the generic description', () => {
    const r = httpErrorResponse(
      invalidToken(TokenErrorCode.TOKEN_SIGNATURE_INVALID, 'signature', new Error('eyJ.secret')),
    );
    expect(r.status).toBe(401);
    expect(r.headers).toEqual({ 'www-authenticate': 'Bearer error="invalid_token"' });
    expect(r.body).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is invalid or expired',
    });
    // Neither the reason label nor the cause reaches the caller.
    expect(JSON.stringify(r)).not.toMatch(/signature|eyJ|secret/);
  });

  it.each([
    ['FORBIDDEN', 403, 'forbidden'],
    ['NOT_FOUND', 404, 'not_found'],
    ['BAD_INPUT', 400, 'invalid_request'],
    ['CONFLICT', 409, 'conflict'],
  ] as const)('maps %s to %i %s without a challenge', (kind, status, error) => {
    const r = httpErrorResponse(new AppError(kind, 'CODE', 'safe message'));
    expect(r).toEqual({
      status,
      headers: {},
      body: { error, error_description: 'safe message' },
    });
  });

  it('answers UNAVAILABLE with 503 and the error’s Retry-After, 5 s by default', () => {
    const later = httpErrorResponse(
      new AppError('UNAVAILABLE', 'IDP_DOWN', 'Try later', { retryAfterSeconds: 30 }),
    );
    expect(later.status).toBe(503);
    expect(later.headers).toEqual({ 'retry-after': '30' });
    expect(later.body.error).toBe('temporarily_unavailable');
    expect(httpErrorResponse(new AppError('UNAVAILABLE', 'X', 'Try later')).headers).toEqual({
      'retry-after': '5',
    });
  });

  it('answers a database outage with 503 + Retry-After, never a 404 or 500 (rule 18)', () => {
    const refused = Object.assign(
      new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2'),
      {
        code: 'ECONNREFUSED',
      },
    );
    for (const err of [refused, databaseUnavailable(refused)]) {
      const r = httpErrorResponse(err);
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('5');
      expect(r.body.error).toBe('temporarily_unavailable');
      expect(JSON.stringify(r.body)).not.toMatch(/ECONNREFUSED|10\.0\.0\.5|hunter2/);
    }
  });

  it('keeps the status and message of Nest 4xx exceptions', () => {
    expect(
      httpErrorResponse(new BadRequestException(['a must be a string', 'b is required'])),
    ).toEqual({
      status: 400,
      headers: {},
      body: { error: 'invalid_request', error_description: 'a must be a string; b is required' },
    });
    expect(httpErrorResponse(new NotFoundException('Cannot GET /nope')).body).toEqual({
      error: 'not_found',
      error_description: 'Cannot GET /nope',
    });
    expect(httpErrorResponse(new HttpException('Slow down', 429)).body.error).toBe(
      'too_many_requests',
    );
    expect(httpErrorResponse(new HttpException('Teapot', 418)).body.error).toBe('invalid_request');
  });

  it('keeps the status of framework 4xx errors but not their message, which may echo input', () => {
    const fastifyError = Object.assign(new Error('Unexpected token "s3cr3t" in JSON'), {
      statusCode: 400,
    });
    const r = httpErrorResponse(fastifyError);
    expect(r).toEqual({
      status: 400,
      headers: {},
      body: { error: 'invalid_request', error_description: 'The request was not valid' },
    });
    const tooLarge = httpErrorResponse(Object.assign(new Error('x'), { statusCode: 413 }));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error).toBe('request_too_large');
  });

  it('answers a Nest 503 with Retry-After and a fixed description', () => {
    const r = httpErrorResponse(new ServiceUnavailableException('pool exhausted at db.internal'));
    expect(r.status).toBe(503);
    expect(r.headers).toEqual({ 'retry-after': '5' });
    expect(r.body.error_description).not.toContain('db.internal');
  });

  it.each([
    ['a plain Error', new Error('relation "actors" does not exist; token=eyJsecret')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'sub')")],
    ['a Nest 500', new InternalServerErrorException('stack at /app/src/secret.ts:12')],
    ['a Nest 502', new HttpException('upstream https://idp.internal said no', 502)],
    ['a framework 5xx', Object.assign(new Error('boom at /app'), { statusCode: 500 })],
    ['a thrown string', 'eyJsecret'],
    ['undefined', undefined],
    ['null', null],
  ])('answers %s with a generic 500 and an error id, no internals', (_what, err) => {
    const r = httpErrorResponse(err);
    expect(r.status).toBe(500);
    expect(r.headers).toEqual({});
    expect(r.body).toEqual({
      error: 'server_error',
      error_description: 'Internal server error',
      error_id: r.errorId,
    });
    expect(r.errorId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(JSON.stringify(r)).not.toMatch(/eyJ|secret|actors|stack|idp\.internal|\/app|sub'/);
  });

  it('gives every unexpected error its own id', () => {
    expect(httpErrorResponse(new Error('a')).errorId).not.toBe(
      httpErrorResponse(new Error('a')).errorId,
    );
  });
});
