import { Controller, Get, Header } from '@nestjs/common';
import { Public } from 'src/common/decorators/public.decorator';
import { ICON_PATH, STYLESHEET_PATH } from 'src/common/html/page';
import { ICON_SVG, STYLESHEET } from 'src/web/stylesheet';

@Controller()
@Public()
export class AssetsController {
  @Get(STYLESHEET_PATH)
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=86400')
  @Header('x-content-type-options', 'nosniff')
  stylesheet(): string {
    return STYLESHEET;
  }

  /** The icon; browsers ask for /favicon.ico on any page, so it answers there too (never a 404). */
  @Get([ICON_PATH, '/favicon.ico'])
  @Header('content-type', 'image/svg+xml')
  @Header('cache-control', 'public, max-age=86400')
  @Header('x-content-type-options', 'nosniff')
  icon(): string {
    return ICON_SVG;
  }
}
