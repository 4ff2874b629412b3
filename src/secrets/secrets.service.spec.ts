import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AppError } from 'src/common/errors/app-error';
import type { AppConfig } from 'src/config/config.types';
import { DEV_KEY_FILE, SecretsService } from 'src/secrets/secrets.service';

// Secrets at rest (SECURITY.md rule 15): authenticated encryption bound to where the secret is stored, and
// a development key that is generated once, private to its owner, reused, and never logged.

const KEY_A = 'a'.repeat(16) + 'key-A-for-the-unit-tests-0123456789';
const KEY_B = 'b'.repeat(16) + 'key-B-for-the-unit-tests-0123456789';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function logger(): Logger & { lines: unknown[][] } {
  const lines: unknown[][] = [];
  const record = (...args: unknown[]) => void lines.push(args);
  return { lines, warn: record, info: record, error: record } as unknown as Logger & {
    lines: unknown[][];
  };
}

function service(secretsKey: string | undefined, dataDir = '/nonexistent', log = logger()) {
  const config = {
    mode: 'development',
    dataDir,
    oauth: secretsKey === undefined ? {} : { secretsKey },
  } as unknown as AppConfig;
  return new SecretsService(config, log);
}

function expectUnreadable(fn: () => unknown, ciphertext: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const e = err as AppError;
    expect(e.kind).toBe('UNAVAILABLE');
    expect(e.code).toBe('SECRET_UNREADABLE');
    for (const part of ciphertext.split('.').filter((p) => p.length > 4)) {
      expect(e.message).not.toContain(part);
      expect(e.reason ?? '').not.toContain(part);
    }
    return;
  }
  throw new Error('expected decrypt to fail');
}

describe('SecretsService', () => {
  const a = service(KEY_A);

  it('round-trips, with a fresh IV every time, in the versioned format', () => {
    const plain = JSON.stringify({ d: 'private', note: 'ünïcødé ✓' });
    const c1 = a.encrypt(plain, 'signing_keys:k1');
    const c2 = a.encrypt(plain, 'signing_keys:k1');
    expect(c1).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(c1).not.toEqual(c2);
    expect(c1).not.toContain('private');
    expect(a.decrypt(c1, 'signing_keys:k1')).toBe(plain);
    expect(a.decrypt(c2, 'signing_keys:k1')).toBe(plain);
    expect(a.decrypt(a.encrypt('', 'x'), 'x')).toBe('');
  });

  it('refuses a ciphertext under other associated data (moved to another row)', () => {
    const c = a.encrypt('secret', 'signing_keys:k1');
    expectUnreadable(() => a.decrypt(c, 'signing_keys:k2'), c);
  });

  it('refuses tampered ciphertexts, tags, IVs and malformed input', () => {
    const c = a.encrypt('a secret value', 'aad');
    const [v, iv, tag, ct] = c.split('.');
    const flip = (s: string) => {
      const b = Buffer.from(s, 'base64url');
      b[0] ^= 1;
      return b.toString('base64url');
    };
    for (const bad of [
      [v, iv, tag, flip(ct)],
      [v, iv, flip(tag), ct],
      [v, flip(iv), tag, ct],
      ['v2', iv, tag, ct],
      [v, iv, tag.slice(0, 10), ct],
      [v, iv, tag],
      [v, iv, tag, `${ct}!`],
    ]) {
      expectUnreadable(() => a.decrypt(bad.join('.'), 'aad'), c);
    }
    expectUnreadable(() => a.decrypt('', 'aad'), c);
  });

  it('refuses to decrypt with another key', () => {
    const c = a.encrypt('secret', 'aad');
    expectUnreadable(() => service(KEY_B).decrypt(c, 'aad'), c);
    expect(service(KEY_A).decrypt(c, 'aad')).toBe('secret');
  });

  it('without a configured key, generates one into dataDir (0600), reuses it, and never logs it', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'bk-secrets-')), 'nested', 'data');
    dirs.push(dataDir);
    const log1 = logger();
    const first = service(undefined, dataDir, log1);
    const file = join(dataDir, DEV_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8').trim();
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    const c = first.encrypt('secret', 'aad');

    const log2 = logger();
    const second = service(undefined, dataDir, log2);
    expect(second.decrypt(c, 'aad')).toBe('secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(key);

    for (const log of [log1, log2]) {
      expect(JSON.stringify(log.lines)).toMatch(/development/);
      expect(JSON.stringify(log.lines)).not.toContain(key);
    }
    // The generated key is not the configured one: a configured key does not read these secrets.
    expectUnreadable(() => service(KEY_A).decrypt(c, 'aad'), c);
  });

  it('refuses a development key file that is not a key, without quoting it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bk-secrets-'));
    dirs.push(dataDir);
    writeFileSync(join(dataDir, DEV_KEY_FILE), 'not-a-key-value\n');
    expect(() => service(undefined, dataDir)).toThrow(/not a Bridgekeeper secrets key/);
    expect(() => service(undefined, dataDir)).not.toThrow(/not-a-key-value/);
  });
});
