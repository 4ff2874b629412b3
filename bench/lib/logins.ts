import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PasswordHasher } from '../../src/accounts/password-hasher';
import { type Bridgekeeper, withDatabase } from './services';

// Password logins as a browser sends them (`POST /login`, issue 9 §3), for the "hot path while people
// sign in" scenario: each login verifies an argon2id hash (OWASP parameters, the server's own hasher).

const PASSWORD = `bench-${randomBytes(12).toString('base64url')}`;

/**
 * Creates `count` local accounts (`bench-login-<i>`, one password), as the set-password page would:
 * the actor of the built-in issuer and its account row, the password hashed once here with the
 * server's own parameters (the server verifies it on every login).
 */
export async function seedLocalAccounts(bk: Bridgekeeper, count: number): Promise<string[]> {
  const hasher = new PasswordHasher();
  const hash = await hasher.hash(PASSWORD);
  await hasher.close();
  const usernames = Array.from({ length: count }, (_, i) => `bench-login-${i}`);
  await withDatabase(bk, async (client) => {
    for (const username of usernames) {
      const accountId = randomUUID();
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO actors (issuer_name, subject, preferred_username) VALUES ('bridgekeeper', $1, $2)
         RETURNING id`,
        [accountId, username],
      );
      await client.query(
        `INSERT INTO local_accounts (id, actor_id, username, password_hash, password_changed_at)
         VALUES ($1, $2, $3, $4, now())`,
        [accountId, rows[0].id, username, hash],
      );
    }
  });
  return usernames;
}

export interface LoginTally {
  ok: number;
  failed: number;
  seconds: number;
  /** CPU of the server's event-loop thread and of its other threads during the slice, % of a core. */
  mainThreadCpu?: number;
  otherThreadsCpu?: number;
  /** First non-303 answer, for the report. */
  firstProblem?: string;
}

/**
 * `concurrency` loops, each signing one account in again and again (`POST /login` with its CSRF
 * cookie and token, from our own origin) until `stop()`; every answer must be the 303 of a success.
 */
export function startLogins(
  url: string,
  usernames: string[],
): { stop(): Promise<LoginTally>; progress(): LoginTally } {
  // The CSRF token of the login form without `return_to`: SHA-256 over the browser's secret, the
  // purpose and the (empty) binding, as src/common/html/csrf.ts computes it.
  const secret = randomBytes(32).toString('base64url');
  const csrf = createHash('sha256')
    .update(`${secret.length}:${secret}${'login'.length}:login0:`)
    .digest('base64url');
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    cookie: `bk_csrf=${secret}`,
    origin: new URL(url).origin,
  };
  const tally: LoginTally = { ok: 0, failed: 0, seconds: 0 };
  let running = true;
  const started = performance.now();
  const loop = async (username: string) => {
    const body = new URLSearchParams({ username, password: PASSWORD, csrf }).toString();
    while (running) {
      try {
        const res = await fetch(`${url}/login`, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
        });
        const text = await res.text();
        if (res.status === 303) tally.ok++;
        else {
          tally.failed++;
          tally.firstProblem ??= `${res.status} ${text.slice(0, 200)}`;
        }
      } catch (err) {
        tally.failed++;
        tally.firstProblem ??= (err as Error).message;
      }
    }
  };
  const loops = usernames.map(loop);
  return {
    progress: () => ({ ...tally }),
    async stop() {
      running = false;
      tally.seconds = (performance.now() - started) / 1000;
      const counted = { ...tally };
      await Promise.all(loops);
      return counted;
    },
  };
}
