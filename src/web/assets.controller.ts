import { Controller, Get, Header } from '@nestjs/common';
import { Public } from 'src/common/decorators/public.decorator';
import { STYLESHEET_PATH } from 'src/common/html/page';
import { STYLESHEET } from 'src/web/stylesheet';

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
}
