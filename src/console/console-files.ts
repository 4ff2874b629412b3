import { createReadStream, type ReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import { extname, join, sep } from 'node:path';

/** Where the console is served from (the SPA's `base`). */
export const CONSOLE_PATH = '/console';

/** The page's policy: scripts, styles and connections to this origin only, never framed. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** What a request under `/console` is answered with. */
export type ConsoleAnswer =
  /** The console is not built (no `index.html`). */
  | { kind: 'not-built' }
  /** Nothing to serve: a refused path (traversal, hidden file, encoded separator) or a missing file. */
  | { kind: 'not-found' }
  /** A file of the build; `page`: the SPA's `index.html` (a deep link), never cached. */
  | { kind: 'file'; path: string; size: number; contentType: string; cache: string; page: boolean };

const PAGE_CACHE = 'no-store';
/** Vite names every file under `assets/` after its content hash: it never changes. */
const HASHED_CACHE = 'public, max-age=31536000, immutable';
/** Other files of the build (favicon, …): cached, but checked again before use. */
const OTHER_CACHE = 'no-cache';

/**
 * Maps a request path under `/console` onto the build directory. Only regular files inside the
 * directory (after resolving symlinks) are ever served; each path segment is decoded once and refused
 * when it is `.`, `..`, hidden (starts with `.`), or holds a separator or NUL, encoded or not. A path
 * that names no file and has no file extension is a deep link of the SPA: its `index.html`.
 */
export async function resolveConsoleRequest(dir: string, url: string): Promise<ConsoleAnswer> {
  const root = await realpath(dir).catch(() => undefined);
  const indexPath = root && (await realInside(root, join(root, 'index.html')));
  const index = indexPath && (await regularFile(indexPath));
  if (!root || !indexPath || !index) return { kind: 'not-built' };
  const page = {
    kind: 'file' as const,
    path: indexPath,
    size: index.size,
    contentType: CONTENT_TYPES['.html'],
    cache: PAGE_CACHE,
    page: true,
  };
  const segments = pathSegments(url);
  if (segments === undefined) return { kind: 'not-found' };
  if (segments.length === 0) return page;
  const real = await realInside(root, join(root, ...segments));
  if (real === null) return { kind: 'not-found' };
  if (real !== undefined) {
    const file = await regularFile(real);
    if (file) {
      const ext = extname(real).toLowerCase();
      return {
        kind: 'file',
        path: real,
        size: file.size,
        contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
        cache:
          segments[0] === 'assets' ? HASHED_CACHE : real === page.path ? PAGE_CACHE : OTHER_CACHE,
        page: real === page.path,
      };
    }
  }
  // A missing asset or file is a 404 (a script answered with HTML would only confuse the browser).
  if (segments[0] === 'assets' || /\.[A-Za-z0-9]+$/.test(segments[segments.length - 1])) {
    return { kind: 'not-found' };
  }
  return page;
}

/** The decoded segments after `/console`, or undefined for a path that must never reach the disk. */
export function pathSegments(url: string): string[] | undefined {
  const path = url.split(/[?#]/, 1)[0];
  if (path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`)) return undefined;
  const out: string[] = [];
  for (const raw of path.slice(CONSOLE_PATH.length).split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment.startsWith('.') || /[/\\\0:]/.test(segment) || segment.length > 255) {
      return undefined;
    }
    out.push(segment);
  }
  return out.length > 32 ? undefined : out;
}

/** A resolved answer, with the file's bytes when small enough to keep in memory. */
export type ServedAnswer =
  | Exclude<ConsoleAnswer, { kind: 'file' }>
  | (Extract<ConsoleAnswer, { kind: 'file' }> & { body?: Buffer });

/** How long a resolved path (and the bytes of a small file) is reused before the disk is asked again. */
const ANSWER_TTL_MS = 5_000;
const MAX_CACHED_FILE_BYTES = 1024 * 1024;

/**
 * `resolveConsoleRequest` with its answers (and small files' bytes) kept for a few seconds per path: a
 * page load costs no disk access while the console is in use, and a new build is seen within seconds.
 */
export class ConsoleFiles {
  private readonly answers = new LRUCache<string, ServedAnswer>({
    max: 500,
    maxSize: 32 * 1024 * 1024,
    sizeCalculation: (a) => ('body' in a && a.body ? a.body.length : 0) + 100,
    ttl: ANSWER_TTL_MS,
  });

  constructor(private readonly dir: string) {}

  async answer(url: string): Promise<ServedAnswer> {
    const path = url.split(/[?#]/, 1)[0];
    const hit = this.answers.get(path);
    if (hit) return hit;
    const answer: ServedAnswer = await resolveConsoleRequest(this.dir, path);
    // Not built yet: asked again next time, so a build is served as soon as it lands.
    if (answer.kind === 'not-built') return answer;
    if (answer.kind === 'file' && answer.size <= MAX_CACHED_FILE_BYTES) {
      const body = await readFile(answer.path).catch(() => undefined);
      if (!body) return answer;
      answer.body = body;
      answer.size = body.length;
    }
    this.answers.set(path, answer);
    return answer;
  }
}

export function openConsoleFile(path: string): ReadStream {
  return createReadStream(path);
}

/** The real path (symlinks resolved) when inside `root`; null outside it; undefined when missing. */
async function realInside(root: string, path: string): Promise<string | null | undefined> {
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined) return undefined;
  return real === root || real.startsWith(root + sep) ? real : null;
}

async function regularFile(path: string): Promise<{ size: number } | undefined> {
  const s = await stat(path).catch(() => undefined);
  return s?.isFile() ? { size: s.size } : undefined;
}
