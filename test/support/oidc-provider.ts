import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ProfileClaims } from 'src/common/auth/profile-claims';
import type { TrustedIssuerSpec } from './bridgekeeper';
import { freePort } from './ports';
import { stopChild } from './redis';

export const IDP_CLIENT_ID = 'bk-test';
const IDP_CLIENT_SECRET = 'bk-test-secret-not-for-production';

/** Claims the IdP puts in the access token it issues (`ext_fhirUser` becomes `ext.fhirUser`). */
export type LoginClaims = ProfileClaims & { fhirUser?: string; ext_fhirUser?: string };

/** A real OpenID provider (oidc-provider) in a child process, see oidc-idp.mjs. */
export class OidcIdp {
  private constructor(
    readonly issuer: string,
    readonly audience: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<OidcIdp> {
    const port = await freePort();
    const child = spawn(process.execPath, [join(__dirname, 'oidc-idp.mjs'), String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ready = await new Promise<{ issuer: string; resource: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('oidc-provider did not start')), 15_000);
      child.once('exit', (code) => reject(new Error(`oidc-provider exited with ${code}`)));
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { issuer: string; resource: string });
      });
    });
    child.stderr!.resume();
    return new OidcIdp(ready.issuer, ready.resource, child);
  }

  get jwksUrl(): string {
    return `${this.issuer}/jwks`;
  }

  /** This IdP as a configured trusted issuer (named `idp` unless told otherwise). */
  trustedIssuer(name = 'idp', extra: Partial<TrustedIssuerSpec> = {}): TrustedIssuerSpec {
    return { name, issuer: this.issuer, jwks: this.jwksUrl, audiences: this.audience, ...extra };
  }

  /** An access token for a person with subject `sub`, as the IdP issues it after a login. */
  login(sub: string, claims: LoginClaims = {}): Promise<string> {
    const form: Record<string, string> = { grant_type: 'urn:bridgekeeper:test:login', sub };
    for (const [k, v] of Object.entries(claims)) form[k] = String(v);
    return this.tokenRequest(form);
  }

  /** A machine token (client_credentials): its `sub` is the client id. */
  clientCredentials(): Promise<string> {
    return this.tokenRequest({ grant_type: 'client_credentials', scope: 'api' });
  }

  private async tokenRequest(form: Record<string, string>): Promise<string> {
    const res = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${IDP_CLIENT_ID}:${IDP_CLIENT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams(form).toString(),
    });
    const body = (await res.json()) as { access_token?: string; error?: string };
    if (!res.ok || !body.access_token) throw new Error(`IdP token request failed: ${body.error}`);
    return body.access_token;
  }

  /**
   * Registers a relying party (dynamic client registration, open on this test IdP); `client_id` and
   * `client_secret` are honoured when given, so they can be configured before the RP's port is known.
   */
  async registerClient(metadata: Record<string, unknown>): Promise<{ client_id: string }> {
    const res = await fetch(`${this.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(metadata),
    });
    const body = (await res.json()) as { client_id?: string; error_description?: string };
    if (res.status !== 201 || !body.client_id)
      throw new Error(`IdP client registration failed: ${body.error_description}`);
    return { client_id: body.client_id };
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}
