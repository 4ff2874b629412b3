import type { AddressInfo } from 'node:net';
import type { AppConfig } from 'src/config/config.types';

/**
 * The one start-up line: where the node listens, the public URL (the `iss` of its tokens), its database
 * and its cache. URLs are reduced to host, port and database name: never a user or a password.
 */
export function startupSummary(
  config: AppConfig,
  embedded: { clusterDir: string } | undefined,
  address: AddressInfo | string | null,
): { message: string; fields: Record<string, unknown> } {
  const listen =
    typeof address === 'object' && address
      ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : `http://${config.http.host}:${config.http.port}`;
  const database = embedded
    ? `embedded PostgreSQL, data in ${embedded.clusterDir}`
    : `PostgreSQL at ${withoutCredentials(config.database.url)}`;
  const cache = config.redis.url
    ? `Redis at ${withoutCredentials(config.redis.url)}`
    : 'in-process (single node)';
  return {
    message: `Bridgekeeper is listening on ${listen} (public URL ${config.publicUrl}); database: ${database}; cache: ${cache}`,
    fields: {
      listen,
      publicUrl: config.publicUrl,
      database,
      cache,
      issuers: config.issuers.map((i) => i.name),
      mode: config.mode,
    },
  };
}

/** `postgres://u:p@db:5432/bk?sslmode=require` → `db:5432/bk`. */
export function withoutCredentials(url: string | undefined): string {
  if (!url) return 'unknown';
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return 'an unparsable URL';
  }
}
