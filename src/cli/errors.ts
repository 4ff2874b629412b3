/** Exit codes (issue 11 §2), as `gh` uses them: 0 ok, 1 error, 2 usage, 4 not authenticated. */
export const EXIT = { OK: 0, ERROR: 1, USAGE: 2, AUTH: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports on stderr and exits with; its message never contains a token. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.ERROR,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usage = (message: string) => new CliError(message, EXIT.USAGE);
export const notAuthenticated = (message: string) => new CliError(message, EXIT.AUTH);

/**
 * Removes anything that looks like a credential from text that may end up in an error message (a
 * server's answer, an exception): JWTs, long opaque strings, `Bearer …`.
 */
export function scrub(text: string): string {
  return text
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[redacted]')
    .replace(/Bearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/[A-Za-z0-9_-]{40,}/g, '[redacted]')
    .slice(0, 500);
}
