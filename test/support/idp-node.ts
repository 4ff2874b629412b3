import { type RunningBridgekeeper, type StartOptions, startBridgekeeper } from './bridgekeeper';
import { OidcIdp } from './oidc-provider';

/** A real OpenID provider and one node that trusts it as `idp`, with `idp:root` an ADMIN. */
export interface IdpAndNode {
  idp: OidcIdp;
  bk: RunningBridgekeeper;
  /** An access token of `idp:root`. */
  adminToken: string;
  close(): Promise<void>;
}

/** The most common e2e set-up; `options` add issuers, admins or properties. */
export async function startIdpAndNode(options: Partial<StartOptions> = {}): Promise<IdpAndNode> {
  const idp = await OidcIdp.start();
  try {
    const bk = await startBridgekeeper({
      ...options,
      issuers: [idp.trustedIssuer(), ...(options.issuers ?? [])],
      admins: ['idp:root', ...(options.admins ?? [])],
    });
    return {
      idp,
      bk,
      adminToken: await idp.login('root'),
      close: async () => {
        await bk.close();
        await idp.stop();
      },
    };
  } catch (err) {
    await idp.stop();
    throw err;
  }
}
