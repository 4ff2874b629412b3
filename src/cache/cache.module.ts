import { Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { CacheService } from 'src/cache/cache.service';
import { CacheStore } from 'src/cache/cache-store';
import { ClusterBus, MemoryClusterBus, RedisClusterBus } from 'src/cache/cluster-bus';
import { MemoryCacheStore } from 'src/cache/memory-cache.store';
import { RedisCacheStore } from 'src/cache/redis-cache.store';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';

/** Closes the bus with the application. */
@Injectable()
class ClusterShutdown implements OnApplicationShutdown {
  constructor(private readonly bus: ClusterBus) {}

  onApplicationShutdown(): Promise<void> {
    return this.bus.close();
  }
}

/** Redis when `bridgekeeper.redis.url` is set, otherwise an in-process LRU: same interface either way. */
@Global()
@Module({
  exports: [CacheService, CacheStore, ClusterBus],
  providers: [
    {
      provide: CacheStore,
      inject: [APP_CONFIG, LOGGER],
      useFactory: async (config: AppConfig, logger: Logger): Promise<CacheStore> => {
        if (!config.redis.url) return new MemoryCacheStore(config.cache.memoryMaxEntries);
        const store = new RedisCacheStore(
          {
            url: config.redis.url,
            keyPrefix: config.redis.keyPrefix,
            commandTimeoutMs: config.redis.commandTimeoutMs,
          },
          logger,
        );
        await store.connect();
        return store;
      },
    },
    {
      provide: ClusterBus,
      inject: [APP_CONFIG, LOGGER],
      useFactory: async (config: AppConfig, logger: Logger): Promise<ClusterBus> => {
        if (!config.redis.url) return new MemoryClusterBus();
        const bus = new RedisClusterBus(
          {
            url: config.redis.url,
            keyPrefix: config.redis.keyPrefix,
            commandTimeoutMs: config.redis.commandTimeoutMs,
          },
          logger,
        );
        await bus.connect();
        return bus;
      },
    },
    ClusterShutdown,
    CacheService,
  ],
})
export class CacheModule {}
