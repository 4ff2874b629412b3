import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { dataSourceOptions } from 'src/database/data-source';
import { runMigrationsWithLock } from 'src/database/migration-runner';

/** Runs migrations at start (unless `bridgekeeper.database.migrations.run=false`), before anything serves. */
class MigrationsOnStart implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.database.runMigrations) return;
    const ran = await runMigrationsWithLock(this.dataSource);
    if (ran.length > 0) this.logger.info({ migrations: ran }, 'database migrations applied');
  }
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        if (!config.database.url)
          throw new Error('database url missing: the bootstrap starts the embedded database first');
        return {
          ...dataSourceOptions(config, config.database.url),
          retryAttempts: 3,
          retryDelay: 1000,
        };
      },
    }),
  ],
  providers: [
    {
      provide: MigrationsOnStart,
      inject: [DataSource, APP_CONFIG, LOGGER],
      useFactory: (d: DataSource, c: AppConfig, l: Logger) => new MigrationsOnStart(d, c, l),
    },
  ],
})
export class DatabaseModule {}
