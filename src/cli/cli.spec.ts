import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrub } from './errors';
import { normalizeServer } from './oauth';
import { table } from './output';
import { CredentialStore } from './store';

describe('cli helpers', () => {
  it('scrubs anything token-shaped from text bound for an error message', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const opaque = 'bkr_' + 'a'.repeat(43);
    const text = scrub(`refused ${jwt}; Bearer abc.def; refresh ${opaque}`);
    expect(text).not.toContain(jwt);
    expect(text).not.toContain('abc.def');
    expect(text).not.toContain('a'.repeat(43));
    expect(text).toContain('refused');
  });

  it('normalizes the server URL and refuses what is not http(s)', () => {
    expect(normalizeServer('https://bk.example.com//')).toBe('https://bk.example.com');
    expect(() => normalizeServer('bk.example.com')).toThrow(/not a URL/);
    expect(() => normalizeServer('file:///etc/passwd')).toThrow(/http/);
  });

  it('aligns tables under capitalised headers, - for empty cells', () => {
    expect(
      table(
        [
          { id: 'a', roles: ['ADMIN', 'X'] },
          { id: 'long-id', roles: [] },
        ],
        [
          ['id', (r) => r.id],
          ['roles', (r) => r.roles],
        ],
      ),
    ).toBe(['ID       ROLES', 'a        ADMIN,X', 'long-id  -'].join('\n'));
  });

  describe('credential store', () => {
    let dir: string;
    beforeEach(() => {
      dir = join(mkdtempSync(join(tmpdir(), 'bk-store-')), 'bridgekeeper');
    });
    afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

    it('keeps refresh tokens per server and resource, 0600 in a 0700 directory', () => {
      const store = new CredentialStore(dir);
      store.save('https://a', 'api', { clientId: 'c', refreshToken: 'r1' });
      store.save('https://a', 'mcp', { clientId: 'c', refreshToken: 'r2' });
      store.save('https://b', 'api', { clientId: 'c', refreshToken: 'r3' });
      expect(statSync(store.path).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(store.defaultServer()).toBe('https://a');
      expect(store.grant('https://a', 'mcp')?.refreshToken).toBe('r2');
      expect(store.forget('https://a').map((g) => g.refreshToken)).toEqual(['r1', 'r2']);
      expect(store.grant('https://a', 'api')).toBeUndefined();
      expect(store.defaultServer()).toBe('https://b');
    });

    it('runs locked sections one at a time', async () => {
      const store = new CredentialStore(dir);
      const order: string[] = [];
      const section = (name: string) =>
        store.locked(async () => {
          order.push(`${name}:in`);
          await new Promise((r) => setImmediate(r));
          order.push(`${name}:out`);
        });
      await Promise.all([section('a'), section('b')]);
      expect(order).toEqual(['a:in', 'a:out', 'b:in', 'b:out']);
    });
  });
});
