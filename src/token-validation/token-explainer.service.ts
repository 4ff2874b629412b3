import { Injectable } from '@nestjs/common';
import type { TrustedIssuerConfig } from 'src/config/config.types';
import { sha256Hex } from 'src/common/crypto/sha256';
import type { TokenClaims } from 'src/token-validation/token-claims';
import { vouchedSubject } from 'src/token-validation/token-step-details';
import { TOKEN_STEPS, type TokenCheck, asRefusal } from 'src/token-validation/token-steps';
import { TokenValidationService } from 'src/token-validation/token-validation.service';

export type StepOutcome = 'PASS' | 'FAIL' | 'SKIPPED';

export interface ExplainStep {
  name: string;
  outcome: StepOutcome;
  detail: string | null;
}

/** What the token-level steps (format … revocation) found. */
export interface TokenExplainResult {
  steps: ExplainStep[];
  /** True when every token-level step passed (or did not apply): the token itself is valid. */
  verified: boolean;
  issuer?: TrustedIssuerConfig;
  /** The verified claims, when `verified`. */
  claims?: TokenClaims;
  /** `sub`, once the token's signature (or a cached verdict) vouches for it. */
  subject?: string;
  expiresAt?: Date;
}

export const SKIPPED_AFTER_FAILURE = 'not checked: an earlier step failed';

/**
 * Runs a token through TOKEN_STEPS, the very checks `TokenValidationService.validate` runs, recording
 * every step for an admin asking "why was this token refused?" (issue 4 §4). Read-only: beyond what
 * validation itself does for a known issuer (its JWKS), nothing is fetched (an unknown `iss` never is),
 * a token is never sent to a userinfo endpoint (only a verdict already cached is reported), and
 * nothing is cached. Details are the steps' fixed texts, never the token.
 */
@Injectable()
export class TokenExplainerService {
  constructor(private readonly tokens: TokenValidationService) {}

  async explain(token: string): Promise<TokenExplainResult> {
    const deps = this.tokens.stepDeps(true);
    const check: TokenCheck = { token, sha256: sha256Hex(token) };
    const steps: ExplainStep[] = [];
    let verified = true;
    /** Once set, the detail of every remaining step (SKIPPED). */
    let rest: string | undefined;
    for (const step of TOKEN_STEPS) {
      if (rest !== undefined) {
        steps.push({ name: step.name, outcome: 'SKIPPED', detail: rest });
        continue;
      }
      try {
        const outcome = await step.run(check, deps);
        if (outcome === undefined) {
          steps.push({ name: step.name, outcome: 'PASS', detail: step.passed(check) });
        } else if ('skipped' in outcome) {
          steps.push({ name: step.name, outcome: 'SKIPPED', detail: outcome.skipped });
        } else {
          steps.push({ name: step.name, outcome: 'SKIPPED', detail: outcome.undecided });
          verified = false;
          rest = outcome.rest;
        }
      } catch (err) {
        steps.push({
          name: step.name,
          outcome: 'FAIL',
          detail: step.failed(asRefusal(err), check),
        });
        verified = false;
        rest = SKIPPED_AFTER_FAILURE;
      }
    }
    return {
      steps,
      verified,
      issuer: check.issuer,
      ...(verified ? { claims: check.claims } : {}),
      ...vouchedSubject(check),
    };
  }
}
