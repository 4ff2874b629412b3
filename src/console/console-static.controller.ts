import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from 'src/common/decorators/public.decorator';
import { sendErrorPage } from 'src/common/html/page';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { CONSOLE_CSP, ConsoleFiles, openConsoleFile } from 'src/console/console-files';

/**
 * The admin console's built files at `/console` (issue 10): the SPA's `index.html` for the page and
 * every deep link (never cached), hashed assets cached for a year, nothing outside the build directory.
 */
@Controller()
@Public()
export class ConsoleStaticController {
  private readonly files: ConsoleFiles;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.files = new ConsoleFiles(config.console.dir);
  }

  @Get(['console', 'console/*'])
  async serve(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const answer = await this.files.answer(request.url);
    if (answer.kind === 'not-built') {
      sendErrorPage(
        reply,
        503,
        'Console not built',
        'The admin console has not been built on this server. Run `npm run build` in the installation, then reload this page.',
      );
      return;
    }
    void reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY');
    if (answer.kind === 'not-found') {
      void reply
        .status(404)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send('Not found');
      return;
    }
    void reply
      .status(200)
      .header('cache-control', answer.cache)
      .header('content-length', String(answer.size))
      .type(answer.contentType)
      .send(answer.body ?? openConsoleFile(answer.path));
  }
}
