import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Everything the CLI reads from its environment, in one place. These variables belong to the command
 * line, not to the server; the server's unknown-variable check knows them (config.definition.ts
 * CLI_ENV_VARS) so exporting them in a shell that also starts the server is fine.
 */
export interface CliEnv {
  /** `BRIDGEKEEPER_SERVER`: the service's public URL. */
  server?: string;
  /** `BRIDGEKEEPER_TOKEN`: a static bearer token (as `GH_TOKEN`). */
  token?: string;
  /** `BRIDGEKEEPER_CLIENT_ID` with `BRIDGEKEEPER_CLIENT_SECRET` or `BRIDGEKEEPER_PRIVATE_KEY_FILE`. */
  clientId?: string;
  clientSecret?: string;
  privateKeyFile?: string;
  /** Where the stored login lives. */
  configDir: string;
  /** Whether a person is at the terminal (prompts and browser hints only then). */
  interactive: boolean;
}

const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);

export function readEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  const base =
    nonEmpty(env.XDG_CONFIG_HOME) ??
    (process.platform === 'win32' && env.APPDATA ? env.APPDATA : join(homedir(), '.config'));
  return {
    server: nonEmpty(env.BRIDGEKEEPER_SERVER),
    token: nonEmpty(env.BRIDGEKEEPER_TOKEN),
    clientId: nonEmpty(env.BRIDGEKEEPER_CLIENT_ID),
    clientSecret: nonEmpty(env.BRIDGEKEEPER_CLIENT_SECRET),
    privateKeyFile: nonEmpty(env.BRIDGEKEEPER_PRIVATE_KEY_FILE),
    configDir: join(base, 'bridgekeeper'),
    interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
  };
}
