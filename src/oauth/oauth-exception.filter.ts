import { type ArgumentsHost, Catch, type ExceptionFilter, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { sendHttpError } from 'src/common/filters/http-exception.filter';
import { LOGGER } from 'src/common/logging/logging.constants';
import { OauthError } from 'src/oauth/oauth.errors';

/**
 * The challenge of every 401 `invalid_client`. RFC 6749 §5.2: a client that tried the `Authorization`
 * header gets the scheme it used, and HTTP Basic is the only header scheme these endpoints accept. A
 * client that authenticated in the body (`client_secret_post`, `private_key_jwt`) or not at all gets
 * the same challenge: RFC 9110 §15.5.2 requires one on every 401, and Basic is the header scheme we
 * offer (never `Bearer`: a bearer token does not authenticate a client here).
 */
export const CLIENT_CHALLENGE = 'Basic realm="bridgekeeper"';

/**
 * The OAuth endpoints' error mapping (RFC 6749 §5.2): `{ error, error_description }`, 400 or 401 (with
 * the Basic challenge), never cached. Everything else (a database that is
 * down, a bearer token refused at logout) goes through the one REST mapping.
 */
@Catch()
export class OauthExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    if (!(exception instanceof OauthError)) {
      sendHttpError(this.logger, request, reply, exception);
      return;
    }
    this.logger.info(
      { reqId: request.id, error: exception.error, reason: exception.reason },
      'oauth request refused',
    );
    if (exception.status === 401) void reply.header('www-authenticate', CLIENT_CHALLENGE);
    if (exception.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(exception.retryAfterSeconds));
    void reply
      .code(exception.status)
      .header('cache-control', 'no-store')
      .header('pragma', 'no-cache')
      .send({ error: exception.error, error_description: exception.description });
  }
}
