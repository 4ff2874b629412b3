import { databaseUnavailable, isDatabaseUnavailable } from 'src/common/errors/app-error';

/** Runs a database call; a lost or unreachable database becomes a 503, never "not found" (rule 18). */
export async function dbCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw databaseUnavailable(err);
    throw err;
  }
}

/** The name of the unique constraint a PostgreSQL error violated, if that is what it is. */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
  };
  const d = e?.driverError ?? e;
  return d?.code === '23505' ? (d.constraint ?? 'unknown') : undefined;
}
