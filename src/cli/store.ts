import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { CliError } from './errors';

/** One stored login: a refresh token for one resource of one server, and the client it belongs to. */
export interface StoredGrant {
  clientId: string;
  refreshToken: string;
}

/** `credentials.json`: per server URL, per resource (`api`, `mcp`). Nothing else is stored. */
interface StoreFile {
  default?: string;
  servers: Record<string, { grants: Partial<Record<string, StoredGrant>> }>;
}

const LOCK_WAIT_MS = 15_000;
const LOCK_STALE_MS = 30_000;

/**
 * The stored login, in the user's config directory, readable by the user only (0700 directory, 0600
 * file, written atomically). Only refresh tokens are kept: access tokens are fetched when needed.
 */
export class CredentialStore {
  private readonly file: string;
  private readonly lockFile: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'credentials.json');
    this.lockFile = join(dir, 'credentials.lock');
  }

  private read(): StoreFile {
    try {
      const doc = JSON.parse(readFileSync(this.file, 'utf8')) as StoreFile;
      return doc && typeof doc.servers === 'object' ? doc : { servers: {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
      throw new CliError(`cannot read ${this.file}: it is not valid JSON (remove it and log in)`);
    }
  }

  private write(doc: StoreFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }

  get path(): string {
    return this.file;
  }

  defaultServer(): string | undefined {
    return this.read().default;
  }

  grant(server: string, resource: string): StoredGrant | undefined {
    return this.read().servers[server]?.grants[resource];
  }

  save(server: string, resource: string, grant: StoredGrant): void {
    const doc = this.read();
    const entry = (doc.servers[server] ??= { grants: {} });
    entry.grants[resource] = grant;
    doc.default ??= server;
    this.write(doc);
  }

  /** Forgets a server's grants; returns them (to revoke). */
  forget(server: string): StoredGrant[] {
    const doc = this.read();
    const grants = Object.values(doc.servers[server]?.grants ?? {}).filter(
      (g): g is StoredGrant => g !== undefined,
    );
    delete doc.servers[server];
    if (doc.default === server) doc.default = Object.keys(doc.servers)[0];
    this.write(doc);
    return grants;
  }

  /**
   * Runs `fn` holding the store's lock, so that concurrent invocations (`curl … $(bridgekeeper token)`
   * in parallel) never present the same refresh token twice, which the server treats as theft and
   * answers by revoking the whole grant.
   */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const deadline = Date.now() + LOCK_WAIT_MS;
    let fd: number | undefined;
    while (fd === undefined) {
      try {
        fd = openSync(this.lockFile, 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = Date.now() - (statSync(this.lockFile, { throwIfNoEntry: false })?.mtimeMs ?? 0);
        if (age > LOCK_STALE_MS) rmSync(this.lockFile, { force: true });
        else if (Date.now() > deadline)
          throw new CliError(`another bridgekeeper holds ${this.lockFile}; try again`);
        else await new Promise((r) => setTimeout(r, 50));
      }
    }
    try {
      return await fn();
    } finally {
      closeSync(fd);
      rmSync(this.lockFile, { force: true });
    }
  }
}
