import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AccountsErrors } from 'src/accounts/accounts.errors';
import {
  type AccountRef,
  LocalAccountsService,
  type NewAccount,
} from 'src/accounts/local-accounts.service';
import { OneTimeLinksService } from 'src/accounts/one-time-links.service';
import { ActorsService } from 'src/actors/actors.service';
import { sha256Hex } from 'src/common/crypto/sha256';
import { ADMIN_ROLE } from 'src/common/decorators/roles.decorator';
import { dbCall } from 'src/common/errors/db-errors';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';

const SETUP_TTL_SECONDS = 24 * 3600;
/** Serializes first-admin creation across nodes (two setup forms posted at once make one admin). */
const SETUP_LOCK = 0x626b7374; // "bkst"

/**
 * The first administrator (issue 9 §1): on a start with no administrator, a one-time setup link (24 h,
 * only its hash stored) is printed once in a box; `bridgekeeper.auth.bootstrap.secret` replaces it.
 * Once an administrator exists, setup is gone.
 */
@Injectable()
export class SetupService implements OnApplicationBootstrap {
  constructor(
    private readonly dataSource: DataSource,
    private readonly actors: ActorsService,
    private readonly accounts: LocalAccountsService,
    private readonly links: OneTimeLinksService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.links.purgeExpired();
      if (await this.actors.hasAdmin()) return;
      if (this.config.auth.bootstrapSecret) {
        this.logger.warn(
          { event: 'setup.pending' },
          `No administrator yet: open ${this.config.publicUrl}/setup/<bridgekeeper.auth.bootstrap.secret> to create the first one`,
        );
        return;
      }
      // Earlier links stay valid (until they expire or an administrator exists): in a cluster every
      // node starts with its own link, and a node starting later must not void the one an operator
      // already copied from another node's log.
      const { secret } = await this.links.create('SETUP', {}, SETUP_TTL_SECONDS);
      this.logger.warn(
        { event: 'setup.link' },
        `No administrator yet (this link is printed once):\n${box(`${this.config.publicUrl}/setup/${secret}`)}`,
      );
    } catch (err) {
      this.logger.warn(
        { err: { message: (err as Error).message } },
        'could not prepare the first-administrator setup link',
      );
    }
  }

  /** Whether setup is still open (no administrator yet). */
  async open(): Promise<boolean> {
    return !(await this.actors.hasAdmin());
  }

  /** Whether this secret opens setup now (the configured one, or an unused printed link). */
  async valid(secret: string): Promise<boolean> {
    if (!(await this.open())) return false;
    const configured = this.config.auth.bootstrapSecret;
    if (configured) return sameSecret(configured, secret);
    return (await this.links.peek(['SETUP'], secret)) !== null;
  }

  /** Creates the first administrator with this secret; null when setup is closed or the link unusable. */
  async createFirstAdmin(secret: string, input: NewAccount): Promise<AccountRef | null> {
    // Refused before the transaction: hashing (and a refused password) never holds the lock.
    const problem = this.accounts.passwordProblem(input.password, [input.username, input.email]);
    if (problem) throw AccountsErrors.passwordRefused(problem);
    return dbCall(() =>
      this.dataSource.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK]);
        if (await this.actors.hasAdmin(tx)) return null;
        const configured = this.config.auth.bootstrapSecret;
        if (configured) {
          if (!sameSecret(configured, secret)) return null;
        } else if (!(await this.links.consume(tx, 'SETUP', secret))) {
          return null;
        }
        const ref = await this.accounts.create({ ...input, roles: [ADMIN_ROLE] }, tx);
        this.logger.info(
          { event: 'setup.admin_created', actorId: ref.actorId },
          'first administrator created',
        );
        return ref;
      }),
    );
  }
}

function sameSecret(configured: string, given: string): boolean {
  const a = Buffer.from(sha256Hex(configured));
  const b = Buffer.from(sha256Hex(given));
  return timingSafeEqual(a, b);
}

/** The setup link in a box, so it stands out in the start-up log. */
function box(url: string): string {
  const lines = [
    'Open',
    `  ${url}`,
    'to create the first administrator (single use, expires in 24 hours).',
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '═'.repeat(width + 2);
  return [`╔${bar}╗`, ...lines.map((l) => `║ ${l.padEnd(width)} ║`), `╚${bar}╝`].join('\n');
}
