import type { FastifyReply, FastifyRequest } from 'fastify';

/** The value of one cookie from the request's `Cookie` header (first occurrence), or undefined. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
  }
  return undefined;
}

export interface CookieOptions {
  /** Secure (and `__Host-`-prefixed names) on an https public URL. */
  secure: boolean;
  /** Seconds; absent: a browser-session cookie. 0 deletes it. */
  maxAgeSeconds?: number;
}

/**
 * Appends a `Set-Cookie`: always `HttpOnly`, `SameSite=Lax`, `Path=/`, no `Domain` (so `__Host-` names
 * are valid), `Secure` on https. The value must be cookie-safe (base64url).
 */
export function setCookie(
  reply: FastifyReply,
  name: string,
  value: string,
  o: CookieOptions,
): void {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (o.secure) parts.push('Secure');
  if (o.maxAgeSeconds !== undefined)
    parts.push(`Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}`);
  const existing = reply.getHeader('set-cookie');
  const list =
    existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  void reply.header('set-cookie', [...list, parts.join('; ')]);
}

/** The cookie name for a public URL: `__Host-<name>` on https (RFC 6265bis), `<name>` otherwise. */
export function cookieName(base: string, publicUrl: string): string {
  return publicUrl.startsWith('https://') ? `__Host-${base}` : base;
}
