import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { isUuid } from 'src/common/validation/uuid';

/** One page of a keyset (created_at, id) listing, oldest first, each row with its opaque cursor. */
export interface KeysetPage<E> {
  items: { cursor: string; entity: E }[];
  hasNextPage: boolean;
}

/** A cursor this module wrote: created_at in microseconds since the epoch, and the row id. */
export interface KeysetCursor {
  us: string;
  id: string;
}

export function encodeCursor(c: KeysetCursor): string {
  return Buffer.from(`${c.us}|${c.id}`, 'utf8').toString('base64url');
}

/**
 * The cursor, or undefined when it is not one of ours. At most 16 digits (microseconds up to the year
 * 2286): longer values overflow PostgreSQL's bigint, interval or timestamp range, which would turn a
 * forged cursor into a 500.
 */
export function decodeCursor(cursor: string): KeysetCursor | undefined {
  const [us, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!us || !/^\d{1,16}$/.test(us) || !id || !isUuid(id)) return undefined;
  return { us, id };
}

/**
 * Runs `qb` (alias `alias`, with `created_at` and `id` columns) as one page of `first` rows after
 * `after`, ordered by (created_at, id): stable under inserts, no OFFSET scans.
 */
export async function keysetPage<E extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<E>,
  alias: string,
  first: number,
  after: KeysetCursor | undefined,
): Promise<KeysetPage<E>> {
  if (after) {
    qb.andWhere(
      `(${alias}.created_at, ${alias}.id) > (timestamptz 'epoch' + (:ts)::bigint * interval '1 microsecond', (:cid)::uuid)`,
      { ts: after.us, cid: after.id },
    );
  }
  qb.addSelect(`(extract(epoch from ${alias}.created_at) * 1000000)::bigint`, 'cursor_us')
    .orderBy(`${alias}.created_at`, 'ASC')
    .addOrderBy(`${alias}.id`, 'ASC')
    .limit(first + 1);
  const { entities, raw } = await qb.getRawAndEntities();
  const items = entities.slice(0, first).map((entity, i) => ({
    cursor: encodeCursor({
      us: String((raw[i] as { cursor_us: string }).cursor_us),
      id: entity.id,
    }),
    entity,
  }));
  return { items, hasNextPage: entities.length > first };
}
