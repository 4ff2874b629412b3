import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig, TrustedIssuerConfig } from 'src/config/config.types';

/**
 * The trusted issuers. Lookup is by the exact `iss` string (no case folding, no trailing-slash
 * normalisation: SECURITY.md rule 1); an unknown `iss` is never discovered.
 */
@Injectable()
export class IssuersService {
  private readonly byIss = new Map<string, TrustedIssuerConfig>();
  private readonly byName = new Map<string, TrustedIssuerConfig>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    for (const issuer of config.issuers) {
      this.byIss.set(issuer.issuer, issuer);
      this.byName.set(issuer.name, issuer);
    }
  }

  findByIss(iss: string): TrustedIssuerConfig | undefined {
    return this.byIss.get(iss);
  }

  findByName(name: string): TrustedIssuerConfig | undefined {
    return this.byName.get(name);
  }

  /** The one issuer that accepts opaque tokens, if any (configuration allows at most one). */
  opaqueIssuer(): TrustedIssuerConfig | undefined {
    return this.all().find((i) => i.opaque);
  }

  all(): TrustedIssuerConfig[] {
    return [...this.byName.values()];
  }
}
