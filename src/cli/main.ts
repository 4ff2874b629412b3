import { Command, CommanderError } from 'commander';
import { adminCommands } from './admin-commands';
import type { CliContext, GlobalOptions } from './credentials';
import { readEnv } from './env';
import { CliError, EXIT, scrub } from './errors';
import { mcpCommands } from './mcp-config';
import { sessionCommands } from './session-commands';
import { CredentialStore } from './store';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  readStdin: () => Promise<string>;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readStdin: async () => {
    if (process.stdin.isTTY) return '';
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/** The `bridgekeeper` command line: no Nest, no server code; returns the exit code. */
export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const env = readEnv();
  const program = new Command('bridgekeeper')
    .description('Bridgekeeper from the command line: sign in, get tokens, administer the service')
    .option('--server <url>', 'the service (default: BRIDGEKEEPER_SERVER, then the stored login)')
    .option('--token <token>', 'a bearer token to use (default: BRIDGEKEEPER_TOKEN, …)')
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
    });
  const ctx = (): CliContext => ({
    env,
    store: new CredentialStore(env.configDir),
    global: program.opts<GlobalOptions>(),
    ...io,
  });
  sessionCommands(program, ctx);
  adminCommands(program, ctx);
  mcpCommands(program, ctx);
  for (const cmd of allCommands(program)) {
    cmd.exitOverride().configureOutput(program.configureOutput());
    if (cmd !== program && cmd.commands.length > 0 && !hasAction(cmd)) {
      // `bridgekeeper actors` alone: its help, as a usage error.
      cmd.action(() => {
        cmd.outputHelp({ error: true });
        throw new CliError('', EXIT.USAGE);
      });
    }
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')
        return EXIT.OK;
      if (err.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    if (err instanceof CliError) {
      if (err.message) io.err(`bridgekeeper: ${err.message}`);
      return err.exitCode;
    }
    io.err(`bridgekeeper: ${scrub(err instanceof Error ? err.message : String(err))}`);
    return EXIT.ERROR;
  }
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

function hasAction(cmd: Command): boolean {
  return (cmd as unknown as { _actionHandler: unknown })._actionHandler != null;
}

/** Entry point of bin/bridgekeeper.mjs. */
export function main(): void {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
