import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';

/** Provides the already validated configuration to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
