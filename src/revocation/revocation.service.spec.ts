import pino from 'pino';
import type { Repository } from 'typeorm';
import { MemoryClusterBus } from 'src/cache/cluster-bus';
import { MetricsService } from 'src/metrics/metrics.service';
import type { RevocationEntity } from 'src/revocation/revocation.entity';
import { RevocationService } from 'src/revocation/revocation.service';

/** A repository double holding rows in memory: save() stamps them, find() returns the unexpired. */
function repoDouble(rows: RevocationEntity[] = []) {
  return {
    create: (r: Partial<RevocationEntity>) => r as RevocationEntity,
    save: async (r: RevocationEntity) => {
      rows.push(r);
      return r;
    },
    find: async () => rows.filter((r) => r.expiresAt.getTime() > Date.now()),
  } as unknown as Repository<RevocationEntity>;
}

describe('RevocationService', () => {
  const logger = pino({ level: 'silent' });
  const soon = () => new Date(Date.now() + 60_000);
  const now = () => Math.floor(Date.now() / 1000);
  let service: RevocationService;

  beforeEach(async () => {
    service = new RevocationService(
      repoDouble(),
      new MemoryClusterBus(),
      new MetricsService(),
      logger,
    );
    await service.onApplicationBootstrap();
  });
  afterEach(() => service.onApplicationShutdown());

  it('refuses a revoked jti and grant, and nothing else', async () => {
    await service.revoke('token', 'j1', soon());
    await service.revoke('grant', 'g1', soon());
    expect(service.isRevoked({ jti: 'j1', sub: 's', iat: now() })).toBe(true);
    expect(service.isRevoked({ jti: 'j2', sid: 'g1', sub: 's', iat: now() })).toBe(true);
    expect(service.isRevoked({ jti: 'j2', sid: 'g2', sub: 's', iat: now() })).toBe(false);
  });

  it('revokes an actor or client up to now: older tokens refused, newer ones not', async () => {
    await service.revoke('actor', 'a1', soon());
    await service.revoke('client', 'c1', soon());
    expect(service.isRevoked({ sub: 'a1', iat: now() - 10 })).toBe(true);
    expect(service.isRevoked({ sub: 'a1', iat: now() + 5 })).toBe(false);
    expect(service.isRevoked({ sub: 'x', clientId: 'c1', iat: now() - 10 })).toBe(true);
    expect(service.isRevoked({ sub: 'x', clientId: 'c1', iat: now() + 5 })).toBe(false);
  });

  it('forgets entries once every token they cover has expired', async () => {
    await service.revoke('token', 'old', new Date(Date.now() - 1));
    expect(service.isRevoked({ jti: 'old', sub: 's', iat: now() })).toBe(false);
  });

  it('loads revocations made before it started (another node, a restart)', async () => {
    const rows = [
      { kind: 'token', value: 'j9', revokedAt: new Date(), expiresAt: soon() } as RevocationEntity,
    ];
    const fresh = new RevocationService(
      repoDouble(rows),
      new MemoryClusterBus(),
      new MetricsService(),
      logger,
    );
    expect(fresh.ready).toBe(false);
    await fresh.onApplicationBootstrap();
    expect(fresh.ready).toBe(true);
    expect(fresh.isRevoked({ jti: 'j9', sub: 's', iat: now() })).toBe(true);
    fresh.onApplicationShutdown();
  });
});
