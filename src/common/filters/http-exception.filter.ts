import { type ArgumentsHost, Catch, type ExceptionFilter, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppError } from 'src/common/errors/app-error';
import { httpErrorResponse } from 'src/common/filters/http-error-response';
import { LOGGER } from 'src/common/logging/logging.constants';

/**
 * Global filter for REST. GraphQL errors are returned untouched so Apollo's `formatError` maps them.
 * Auth failures log at info, bugs at error (with the cause), and no token ever reaches a log or body.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType<string>() !== 'http') return exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    sendHttpError(this.logger, request, reply, exception);
    return undefined;
  }
}

export function sendHttpError(
  logger: Logger,
  request: FastifyRequest,
  reply: FastifyReply,
  exception: unknown,
  /** Headers that replace the mapping's own (an endpoint's `WWW-Authenticate` challenge). */
  headers: (res: { status: number }) => Record<string, string> = () => ({}),
): void {
  const res = httpErrorResponse(exception);
  if (res.errorId) {
    logger.error({ reqId: request.id, errorId: res.errorId, err: exception }, 'unhandled error');
  } else if (exception instanceof AppError && exception.reason) {
    logger.info(
      { reqId: request.id, code: exception.code, reason: exception.reason },
      'request refused',
    );
  }
  void reply
    .code(res.status)
    .headers({ ...res.headers, ...headers(res) })
    .header('cache-control', 'no-store')
    .send(res.body);
}
