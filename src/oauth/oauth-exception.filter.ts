import { type ArgumentsHost, Catch, type ExceptionFilter, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { sendHttpError } from 'src/common/filters/http-exception.filter';
import { LOGGER } from 'src/common/logging/logging.constants';
import { OauthError } from 'src/oauth/oauth.errors';

/**
 * The OAuth endpoints' error mapping (RFC 6749 §5.2): `{ error, error_description }`, 400 or 401 (with
 * a Basic challenge when the client used Basic), never cached. Everything else (a database that is
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
    if (exception.status === 401) {
      void reply.header(
        'www-authenticate',
        exception.basicChallenge ? 'Basic realm="bridgekeeper"' : 'Bearer',
      );
    }
    void reply
      .code(exception.status)
      .header('cache-control', 'no-store')
      .header('pragma', 'no-cache')
      .send({ error: exception.error, error_description: exception.description });
  }
}
