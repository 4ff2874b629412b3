import type { Command } from 'commander';
import { type CliContext, serverOf } from './credentials';
import { usage } from './errors';

const CLIENTS = ['claude', 'vscode', 'codex'] as const;
type McpClient = (typeof CLIENTS)[number];

/** The snippets that connect each agent to `<server>/mcp`: a static bearer, or OAuth. */
export function mcpSnippets(server: string): Record<McpClient, string> {
  const url = `${server}/mcp`;
  return {
    claude: [
      '# Claude Code, with OAuth (Claude Code finds the authorization server from /mcp; run /mcp to sign in):',
      `claude mcp add --transport http bridgekeeper ${url}`,
      '',
      '# or with a token from your `bridgekeeper login --resource mcp` (it expires: re-run to refresh):',
      `claude mcp add --transport http bridgekeeper ${url} \\`,
      '  --header "Authorization: Bearer $(bridgekeeper token --resource mcp)"',
      '',
      '# or in .mcp.json, reading the token from the environment:',
      JSON.stringify(
        {
          mcpServers: {
            bridgekeeper: {
              type: 'http',
              url,
              headers: { Authorization: 'Bearer ${BRIDGEKEEPER_MCP_TOKEN}' },
            },
          },
        },
        null,
        2,
      ),
    ].join('\n'),
    vscode: [
      '// VS Code, .vscode/mcp.json (OAuth: leave out "headers" and VS Code signs you in):',
      JSON.stringify(
        {
          inputs: [
            {
              type: 'promptString',
              id: 'bridgekeeper-token',
              description: 'Output of: bridgekeeper token --resource mcp',
              password: true,
            },
          ],
          servers: {
            bridgekeeper: {
              type: 'http',
              url,
              headers: { Authorization: 'Bearer ${input:bridgekeeper-token}' },
            },
          },
        },
        null,
        2,
      ),
    ].join('\n'),
    codex: [
      '# Codex, ~/.codex/config.toml (OAuth: leave out bearer_token_env_var and run `codex mcp login bridgekeeper`):',
      '[mcp_servers.bridgekeeper]',
      `url = "${url}"`,
      'bearer_token_env_var = "BRIDGEKEEPER_MCP_TOKEN"',
      '',
      '# then: export BRIDGEKEEPER_MCP_TOKEN="$(bridgekeeper token --resource mcp)"',
    ].join('\n'),
  };
}

export function mcpCommands(program: Command, ctx: () => CliContext): void {
  const mcp = program.command('mcp').description('The MCP endpoint for AI agents');
  mcp
    .command('config')
    .description('Print the configuration that connects Claude Code, VS Code or Codex to /mcp')
    .option('--client <client>', `one of ${CLIENTS.join(', ')} (default: all)`)
    .action((o: { client?: string }) => {
      const c = ctx();
      if (o.client !== undefined && !CLIENTS.includes(o.client as McpClient)) {
        throw usage(`--client must be one of ${CLIENTS.join(', ')}`);
      }
      const server = serverOf(c, false);
      if (!server) throw usage('which server? Pass --server URL or set BRIDGEKEEPER_SERVER');
      const snippets = mcpSnippets(server);
      const chosen = o.client ? [o.client as McpClient] : [...CLIENTS];
      if (c.global.json) {
        c.out(
          JSON.stringify(
            {
              url: `${server}/mcp`,
              snippets: Object.fromEntries(chosen.map((k) => [k, snippets[k]])),
            },
            null,
            2,
          ),
        );
      } else {
        c.out(chosen.map((k) => snippets[k]).join('\n\n'));
      }
    });
}
