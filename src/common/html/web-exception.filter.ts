import { type ArgumentsHost, Catch, type ExceptionFilter, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppError } from 'src/common/errors/app-error';
import { httpErrorResponse } from 'src/common/filters/http-error-response';
import { sendErrorPage } from 'src/common/html/page';
import { LOGGER } from 'src/common/logging/logging.constants';

const TITLES: Record<number, string> = {
  400: 'Something is wrong with this request',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Already exists',
  415: 'Something is wrong with this request',
  503: 'Temporarily unavailable',
};

/**
 * The error mapping of the browser transport: the same statuses as REST (`httpErrorResponse`), shown as
 * a page with a safe message (an AppError's message, or a generic one); bugs are logged with an id.
 */
@Catch()
export class WebExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const res = httpErrorResponse(exception);
    if (res.errorId) {
      this.logger.error(
        { reqId: request.id, errorId: res.errorId, err: exception },
        'unhandled error',
      );
    }
    const message =
      exception instanceof AppError
        ? exception.message
        : res.errorId
          ? `Something went wrong on our side (error ${res.errorId}).`
          : 'This request could not be handled.';
    const retryAfter = res.headers['retry-after'];
    sendErrorPage(
      reply,
      res.status,
      TITLES[res.status] ?? 'Something went wrong',
      message,
      retryAfter ? Number(retryAfter) : undefined,
    );
  }
}
