import { Module } from '@nestjs/common';
import { ConsoleStaticController } from 'src/console/console-static.controller';

/** The admin console (issue 10): its built files, and the GraphQL only the console needs. */
@Module({
  controllers: [ConsoleStaticController],
})
export class ConsoleModule {}
