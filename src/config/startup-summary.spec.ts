import type { AppConfig } from 'src/config/config.types';
import { startupSummary, withoutCredentials } from 'src/config/startup-summary';

const config = {
  mode: 'development',
  http: { host: '127.0.0.1', port: 3000 },
  publicUrl: 'http://127.0.0.1:3000',
  database: { url: 'postgres://bk:s3cr3t@db.internal:5432/bridgekeeper?sslmode=require' },
  redis: { url: 'redis://:r3d1s@cache.internal:6379/0' },
  issuers: [],
} as unknown as AppConfig;

describe('startupSummary', () => {
  it('names listen and public URLs, database and cache, never a password', () => {
    const s = startupSummary(config, undefined, {
      address: '127.0.0.1',
      family: 'IPv4',
      port: 3000,
    });
    expect(s.message).toBe(
      'Bridgekeeper is listening on http://127.0.0.1:3000 (public URL http://127.0.0.1:3000); database: PostgreSQL at db.internal:5432/bridgekeeper; cache: Redis at cache.internal:6379/0',
    );
    expect(JSON.stringify(s)).not.toMatch(/s3cr3t|r3d1s/);
  });

  it('names the embedded data folder and the in-process cache', () => {
    const s = startupSummary(
      { ...config, redis: { ...config.redis, url: undefined } },
      { clusterDir: '/srv/bk/.bridgekeeper/postgres' },
      { address: '::1', family: 'IPv6', port: 3000 },
    );
    expect(s.message).toContain('listening on http://[::1]:3000');
    expect(s.message).toContain(
      'database: embedded PostgreSQL, data in /srv/bk/.bridgekeeper/postgres',
    );
    expect(s.message).toContain('cache: in-process (single node)');
  });

  it('never echoes an unparsable URL', () => {
    expect(withoutCredentials('not a url :pw')).toBe('an unparsable URL');
  });
});
