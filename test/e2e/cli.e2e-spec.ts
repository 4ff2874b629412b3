import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';
import { launchChromium, onFailure, type TestChromium } from '../support/chromium';
import { consoleSignIn, CONSOLE_CLIENT_ID } from '../support/console-signin';
import { createClient } from '../support/gql-ops';
import { OidcIdp } from '../support/oidc-provider';

// The `bridgekeeper` command line run as a user runs it: a child process of bin/bridgekeeper.mjs, its own
// config directory, the server over HTTP, exit codes and stdout/stderr checked.

const BIN = join(__dirname, '..', '..', 'bin', 'bridgekeeper.mjs');
const PASSWORD = 'correct horse battery staple 42';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('bridgekeeper CLI', () => {
  let idp: OidcIdp;
  let bk: RunningBridgekeeper;
  let rootToken: string;
  let home: string;

  beforeAll(async () => {
    idp = await OidcIdp.start();
    bk = await startBridgekeeper({
      issuers: [idp.trustedIssuer()],
      admins: ['idp:root'],
      properties: {
        'bridgekeeper.oauth.device.interval.seconds': '1',
        // The shortest allowed, so that one test can wait for a token to expire.
        'bridgekeeper.oauth.access.token.ttl.seconds': '30',
      },
    });
    rootToken = await idp.login('root');
    await bk.app.get(LocalAccountsService).create({
      username: 'dev',
      email: 'dev@example.com',
      password: PASSWORD,
    });
    home = mkdtempSync(join(tmpdir(), 'bk-cli-home-'));
  });

  afterAll(async () => {
    await bk?.close();
    await idp?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** The CLI as a child process with a clean environment (no inherited BRIDGEKEEPER_*). */
  function spawnCli(
    args: string[],
    env: Record<string, string> = {},
  ): ChildProcessWithoutNullStreams {
    return spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        XDG_CONFIG_HOME: join(home, '.config'),
        BRIDGEKEEPER_SERVER: bk.url,
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** Runs the CLI to its end, stdin from `input`. */
  function cli(args: string[], env: Record<string, string> = {}, input = ''): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawnCli(args, env);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  const json = <T = Record<string, unknown>>(r: Run): T => {
    expect(r).toMatchObject({ code: 0 });
    return JSON.parse(r.stdout) as T;
  };

  /** `tools/list` at /mcp with a bearer token, as an agent sends it. */
  const mcpToolsList = (token: string) =>
    fetch(`${bk.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });

  const credentialsFile = () => join(home, '.config', 'bridgekeeper', 'credentials.json');

  it('whoami --json with BRIDGEKEEPER_TOKEN', async () => {
    const me = json(await cli(['whoami', '--json'], { BRIDGEKEEPER_TOKEN: rootToken }));
    expect(me).toMatchObject({
      issuer: 'idp',
      subject: 'root',
      roles: ['ADMIN'],
      status: 'ACTIVE',
    });
    // --token wins over the environment.
    const garbage = await cli(['whoami', '--json', '--token', 'garbage'], {
      BRIDGEKEEPER_TOKEN: rootToken,
    });
    expect(garbage.code).toBe(4);
  });

  it('exits 4 for BRIDGEKEEPER_TOKEN=garbage, and never prints the token', async () => {
    const r = await cli(['whoami'], { BRIDGEKEEPER_TOKEN: 'garbage-token-value' });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^bridgekeeper: /);
    expect(r.stderr + r.stdout).not.toContain('garbage-token-value');
  });

  it('exits 2 on usage errors and 4 when no credentials exist, on stderr', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/unknown command/);
    expect((await cli(['token', '--resource', 'elsewhere'])).code).toBe(2);
    expect(
      (await cli(['members', 'invite', 'p', '--first-name', 'a', '--last-name', 'b'])).code,
    ).toBe(2);
    const none = await cli(['whoami']);
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/not logged in/);
    expect((await cli(['--help'])).code).toBe(0);
  });

  it('runs admin commands with a client-credentials identity (secret)', async () => {
    const created = await createClient(bk, rootToken, { roles: ['ADMIN'], scopes: ['api'] });
    const env = {
      BRIDGEKEEPER_CLIENT_ID: created.client.clientId,
      BRIDGEKEEPER_CLIENT_SECRET: created.clientSecret!,
    };
    const me = json(await cli(['whoami', '--json'], env));
    expect(me).toMatchObject({ id: created.client.actorId, roles: ['ADMIN'] });

    const project = json<{ id: string; name: string }>(
      await cli(['projects', 'create', 'CLI Clinic', '--json'], env),
    );
    expect(project.name).toBe('CLI Clinic');
    const table = await cli(['projects', 'list'], env);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+CREATED$/);
    expect(table.stdout).toContain('CLI Clinic');

    const invited = json<{ id: string; email: string; active: boolean }>(
      await cli(
        [
          'members',
          'invite',
          project.id,
          '--first-name',
          'Grace',
          '--last-name',
          'Hopper',
          '--email',
          'grace@example.com',
          '--json',
        ],
        env,
      ),
    );
    expect(invited).toMatchObject({ email: 'grace@example.com', active: true });
    json(await cli(['members', 'deactivate', invited.id, '--json'], env));
    const members = json<{ id: string; active: boolean }[]>(
      await cli(['members', 'list', project.id, '--json'], env),
    );
    expect(members).toEqual([expect.objectContaining({ id: invited.id, active: false })]);

    const actors = json<{ subject: string }[]>(
      await cli(['actors', 'list', '--search', 'root', '--json'], env),
    );
    expect(actors.map((a) => a.subject)).toContain('root');
    const clients = await cli(['clients', 'list'], env);
    expect(clients.stdout).toContain(created.client.clientId);
    expect(clients.stdout).not.toContain(created.clientSecret!);
    expect(json<{ name: string }[]>(await cli(['issuers', 'list', '--json'], env))).toEqual([
      expect.objectContaining({ name: 'idp' }),
    ]);
    const keys = json<{ status: string }[]>(await cli(['keys', 'list', '--json'], env));
    expect(keys.map((k) => k.status)).toContain('ACTIVE');

    // A token for the MCP endpoint, for an agent's configuration.
    const mcpToken = (await cli(['token', '--resource', 'mcp'], env)).stdout.trim();
    const res = await mcpToolsList(mcpToken);
    expect(res.status).toBe(200);

    // A non-admin identity is refused (exit 1), with the server's reason on stderr.
    const plain = await createClient(bk, rootToken, { scopes: ['api'] });
    const refused = await cli(['actors', 'list'], {
      BRIDGEKEEPER_CLIENT_ID: plain.client.clientId,
      BRIDGEKEEPER_CLIENT_SECRET: plain.clientSecret!,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/permission/);
    // A wrong secret is "not authenticated".
    const wrong = await cli(['whoami'], { ...env, BRIDGEKEEPER_CLIENT_SECRET: 'wrong-secret' });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).not.toContain('wrong-secret');
  }, 180_000);

  it('runs with a private_key_jwt client (BRIDGEKEEPER_PRIVATE_KEY_FILE)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig', kid: 'cli' };
    const created = await createClient(bk, rootToken, {
      roles: ['ADMIN'],
      scopes: ['api'],
      tokenEndpointAuthMethod: 'PRIVATE_KEY_JWT',
      jwks: JSON.stringify({ keys: [jwk] }),
    });
    const keyFile = join(home, 'agent-key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const env = {
      BRIDGEKEEPER_CLIENT_ID: created.client.clientId,
      BRIDGEKEEPER_PRIVATE_KEY_FILE: keyFile,
    };
    expect(json(await cli(['whoami', '--json'], env))).toMatchObject({
      id: created.client.actorId,
    });
    expect(json<unknown[]>(await cli(['projects', 'list', '--json'], env)).length).toBeGreaterThan(
      0,
    );
  });

  it('stores only a refresh token (0600), refreshes for every token, and logout ends the grant', async () => {
    const { tokens } = await consoleSignIn(bk, 'dev', PASSWORD);
    const given = tokens.refresh_token!;
    const login = await cli(
      ['login', '--with-token', '--client-id', CONSOLE_CLIENT_ID],
      { BRIDGEKEEPER_SERVER: `${bk.url}/` },
      `${given}\n`,
    );
    expect(login).toMatchObject({ code: 0, stdout: '' });
    expect(login.stderr).toContain(`Logged in to ${bk.url}`);
    expect(login.stderr).not.toContain(given);

    const file = credentialsFile();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.config', 'bridgekeeper')).mode & 0o777).toBe(0o700);
    const stored = () =>
      (
        JSON.parse(readFileSync(file, 'utf8')) as {
          servers: Record<string, { grants: Record<string, { refreshToken: string }> }>;
        }
      ).servers[bk.url].grants.api.refreshToken;
    const first = stored();
    // Rotated at once: the token given is used up, only its successor is kept.
    expect(first).not.toBe(given);
    expect(readFileSync(file, 'utf8')).not.toMatch(/access_token|eyJ/);

    const env = { BRIDGEKEEPER_SERVER: '' };
    const me = json(await cli(['whoami', '--json'], env));
    expect(me).toMatchObject({ email: 'dev@example.com', status: 'ACTIVE' });
    const t1 = (await cli(['token'], env)).stdout.trim();
    const t2 = (await cli(['token'], env)).stdout.trim();
    expect(t1).not.toBe(t2);
    for (const t of [t1, t2]) {
      const r = await bk.graphql('{ me { email } }', t);
      expect(r.body.data).toEqual({ me: { email: 'dev@example.com' } });
    }
    expect(stored()).not.toBe(first);
    const status = json<{ credentials: string; storedLogins: string[] }>(
      await cli(['status', '--json'], env),
    );
    expect(status).toMatchObject({ credentials: 'login', storedLogins: ['api'] });

    // Parallel scripts share the stored login without tripping refresh-token reuse detection.
    const parallel = await Promise.all([1, 2, 3].map(() => cli(['token'], env)));
    expect(parallel.map((r) => r.code)).toEqual([0, 0, 0]);

    const before = stored();
    const logout = await cli(['logout'], env);
    expect(logout.code).toBe(0);
    // The grant is over on the server, not just forgotten here.
    const reuse = await fetch(`${bk.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: before,
        client_id: CONSOLE_CLIENT_ID,
      }).toString(),
    });
    expect(reuse.status).toBe(400);
    const after = await cli(['whoami'], env);
    expect(after.code).toBe(4);
    expect(after.stderr).toMatch(/not logged in/);
  }, 180_000);

  describe('device login approved in a real browser', () => {
    let chrome: TestChromium;

    beforeAll(async () => {
      chrome = await launchChromium();
      await bk.app.get(LocalAccountsService).create({
        username: 'eve',
        email: 'eve@example.com',
        password: PASSWORD,
      });
    });

    afterAll(async () => {
      await chrome?.close();
    });

    /**
     * `bridgekeeper login` as a person runs it: the CLI prints a link and a code on stderr and polls; the
     * person opens the link in Chromium, signs in, checks the code and approves.
     */
    async function deviceLogin(args: string[], env: Record<string, string>): Promise<Run> {
      const child = spawnCli(['login', ...args], env);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const done = new Promise<number | null>((resolve) => child.on('close', resolve));
      const link = await new Promise<{ url: string; code: string }>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const m = /open (\S+) and enter the code (\S+)\n\(or open (\S+)\)/.exec(stderr);
          if (m) resolve({ url: m[3], code: m[2] });
        });
        child.on('close', () => reject(new Error(`login ended early: ${stderr}`)));
      });
      child.stdin.end();
      const p = await chrome.newPage();
      try {
        await onFailure(p.page, 'cli-device-login', async () => {
          await p.page.goto(link.url);
          await p.page.waitForURL((u) => u.pathname === '/login');
          await p.page.getByLabel('Username or email').fill('eve');
          await p.page.getByLabel('Password').fill(PASSWORD);
          await p.page.getByRole('button', { name: 'Sign in' }).click();
          await p.page.getByRole('heading', { name: 'Connect a device' }).waitFor();
          expect(await p.page.getByLabel('Code').inputValue()).toBe(link.code);
          await p.page.getByRole('button', { name: 'Continue' }).click();
          await p.page.getByRole('heading', { name: 'Approve this device?' }).waitFor();
          expect(await p.page.locator('main').innerText()).toContain('Bridgekeeper CLI');
          await p.page.getByRole('button', { name: 'Approve' }).click();
          await p.page.getByRole('heading', { name: 'Device approved' }).waitFor();
          p.assertNoErrors();
        });
      } finally {
        await p.close();
      }
      return { code: await done, stdout, stderr };
    }

    it('logs in with the built-in client, then whoami --json, token and logout work', async () => {
      const xdg = join(home, 'device');
      const env = { XDG_CONFIG_HOME: xdg };
      const login = await deviceLogin([], env);
      expect(login.code).toBe(0);
      expect(login.stdout).toBe('');
      expect(login.stderr).toContain(`Logged in to ${bk.url} (api)`);

      const me = json(await cli(['whoami', '--json'], env));
      expect(me).toMatchObject({ email: 'eve@example.com', issuer: 'bridgekeeper' });
      const token = (await cli(['token'], env)).stdout.trim();
      expect((await bk.graphql('{ me { email } }', token)).body.data).toEqual({
        me: { email: 'eve@example.com' },
      });
      const file = readFileSync(join(xdg, 'bridgekeeper', 'credentials.json'), 'utf8');
      expect(file).toContain('"clientId": "bridgekeeper-cli"');
      expect(file).not.toContain(token);

      // No MCP login yet: a clear "not authenticated"; then one for the MCP resource.
      expect((await cli(['token', '--resource', 'mcp'], env)).code).toBe(4);
      expect((await deviceLogin(['--resource', 'mcp'], env)).code).toBe(0);
      const mcpToken = (await cli(['token', '--resource', 'mcp'], env)).stdout.trim();
      const listed = await mcpToolsList(mcpToken);
      const tools = ((await listed.json()) as { result: { tools: { name: string }[] } }).result
        .tools;
      // A person with no admin role: only whoami.
      expect(tools.map((t) => t.name)).toEqual(['whoami']);
      // The MCP token is not an API token.
      expect((await bk.graphql('{ me { email } }', mcpToken)).status).toBe(401);

      expect((await cli(['logout'], env)).code).toBe(0);
      expect((await cli(['whoami'], env)).code).toBe(4);
      expect((await cli(['token', '--resource', 'mcp'], env)).code).toBe(4);
    }, 180_000);
  });

  it('gives a working token after the previous one expired (the login is refreshed)', async () => {
    const { tokens } = await consoleSignIn(bk, 'dev', PASSWORD);
    const env = { XDG_CONFIG_HOME: join(home, 'expiry') };
    const login = await cli(
      ['login', '--with-token', '--client-id', CONSOLE_CLIENT_ID],
      env,
      tokens.refresh_token!,
    );
    expect(login.code).toBe(0);
    const first = (await cli(['token'], env)).stdout.trim();
    expect((await bk.graphql('{ me { email } }', first)).status).toBe(200);
    // Wait (polling, no fixed sleep) until the server refuses it: expired, past the clock tolerance.
    for (let i = 0; ; i++) {
      if ((await bk.graphql('{ me { email } }', first)).status === 401) break;
      if (i > 60) throw new Error('the first access token never expired');
      await new Promise((r) => setTimeout(r, 3000));
    }
    const next = await cli(['token'], env);
    expect(next.code).toBe(0);
    expect((await bk.graphql('{ me { email } }', next.stdout.trim())).body.data).toEqual({
      me: { email: 'dev@example.com' },
    });
    expect(json(await cli(['whoami', '--json'], env))).toMatchObject({ email: 'dev@example.com' });
  }, 300_000);

  it('prints the MCP configuration of Claude Code, VS Code and Codex', async () => {
    const all = await cli(['mcp', 'config']);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`claude mcp add --transport http bridgekeeper ${bk.url}/mcp`);
    expect(all.stdout).toContain('"servers"');
    expect(all.stdout).toContain('[mcp_servers.bridgekeeper]');
    const codex = json<{ url: string; snippets: Record<string, string> }>(
      await cli(['mcp', 'config', '--client', 'codex', '--json']),
    );
    expect(codex.url).toBe(`${bk.url}/mcp`);
    expect(Object.keys(codex.snippets)).toEqual(['codex']);
  });
});
