import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { AccountsErrors } from 'src/accounts/accounts.errors';
import { LocalAccountEntity } from 'src/accounts/local-account.entity';
import { PasswordHasher } from 'src/accounts/password-hasher';
import { MAX_PASSWORD_LENGTH, passwordProblem } from 'src/accounts/password-policy';
import { ActorsService } from 'src/actors/actors.service';
import { dbCall, uniqueViolation } from 'src/common/errors/db-errors';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';

/** The issuer name of local accounts' actors (the built-in issuer, as for our own tokens). */
export const LOCAL_ISSUER_NAME = 'bridgekeeper';

export interface NewAccount {
  username?: string | null;
  email?: string | null;
  displayName?: string | null;
  password: string;
  roles?: string[];
}

export interface AccountRef {
  accountId: string;
  actorId: string;
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/**
 * Local accounts (issue 9 §1, SECURITY rule 22): argon2id in the worker pool, a password policy, and a
 * `verify` that answers an unknown login exactly like a wrong password, after the same work.
 */
@Injectable()
export class LocalAccountsService implements OnApplicationShutdown {
  private readonly hasher = new PasswordHasher();

  constructor(
    @InjectRepository(LocalAccountEntity) private readonly repo: Repository<LocalAccountEntity>,
    private readonly dataSource: DataSource,
    private readonly actors: ActorsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.hasher.close();
  }

  /**
   * The account for a username or email and password, or null, whichever of "no such login", "no
   * password set" and "wrong password" it is: one argon2 verification in every case.
   */
  async verify(login: string, password: string): Promise<AccountRef | null> {
    const normalized = login.trim().toLowerCase();
    if (
      normalized.length === 0 ||
      normalized.length > 320 ||
      password.length > MAX_PASSWORD_LENGTH * 4
    ) {
      await this.hasher.verifyDummy(password.slice(0, MAX_PASSWORD_LENGTH * 4));
      return null;
    }
    const row = await dbCall(() =>
      this.repo
        .createQueryBuilder('a')
        .addSelect('a.passwordHash')
        .where('lower(a.username) = :l OR lower(a.email) = :l', { l: normalized })
        .orderBy('(lower(a.username) = :l)', 'DESC')
        .limit(1)
        .getOne(),
    );
    const ok = await this.hasher.verify(row?.passwordHash ?? null, password);
    return ok && row ? { accountId: row.id, actorId: row.actorId } : null;
  }

  /** Why this password would be refused for this account (null: acceptable). */
  passwordProblem(password: string, identifiers: (string | null | undefined)[]): string | null {
    return passwordProblem(password, this.config.auth.passwordMinLength, identifiers);
  }

  /**
   * Creates an account and its actor in `manager`'s transaction (or a new one). Username and email are
   * unique ignoring case; the password is checked against the policy and hashed before the transaction.
   */
  async create(input: NewAccount, manager?: EntityManager): Promise<AccountRef> {
    const username = input.username?.trim() || null;
    const email = input.email?.trim().toLowerCase() || null;
    if (!username && !email)
      throw AccountsErrors.passwordRefused('A username or an email is required.');
    if (username && !USERNAME.test(username))
      throw AccountsErrors.passwordRefused(
        'A username is 1 to 64 letters, digits, dots, dashes, underscores or @.',
      );
    if (email && !EMAIL.test(email))
      throw AccountsErrors.passwordRefused('This is not an email address.');
    const problem = this.passwordProblem(input.password, [username, email]);
    if (problem) throw AccountsErrors.passwordRefused(problem);
    const passwordHash = await this.hasher.hash(input.password);
    const displayName = input.displayName?.trim().slice(0, 200) || null;
    const write = async (tx: EntityManager): Promise<AccountRef> => {
      const accountId = randomUUID();
      const actor = await this.actors.createInTransaction(tx, {
        issuerName: LOCAL_ISSUER_NAME,
        subject: accountId,
        email,
        name: displayName,
        preferredUsername: username,
        roles: input.roles ?? [],
      });
      await tx.getRepository(LocalAccountEntity).insert({
        id: accountId,
        actorId: actor.id,
        username,
        email,
        displayName,
        passwordHash,
        passwordChangedAt: new Date(),
      });
      return { accountId, actorId: actor.id };
    };
    try {
      return await dbCall(() => (manager ? write(manager) : this.dataSource.transaction(write)));
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (constraint === 'uq_local_accounts_username') throw AccountsErrors.exists('username');
      if (constraint === 'uq_local_accounts_email') throw AccountsErrors.exists('email');
      throw err;
    }
  }

  /** Sets a new password (policy-checked) in `manager`'s transaction. */
  async setPassword(
    manager: EntityManager,
    accountId: string,
    password: string,
  ): Promise<AccountRef> {
    const account = await manager.getRepository(LocalAccountEntity).findOneBy({ id: accountId });
    if (!account) throw AccountsErrors.notFound();
    const problem = this.passwordProblem(password, [account.username, account.email]);
    if (problem) throw AccountsErrors.passwordRefused(problem);
    const passwordHash = await this.hasher.hash(password);
    await manager
      .getRepository(LocalAccountEntity)
      .update({ id: accountId }, { passwordHash, passwordChangedAt: new Date() });
    return { accountId, actorId: account.actorId };
  }

  /**
   * A signed-in person changes their own password: the current one must match (one argon2
   * verification, also when the account has none), the new one follows the set-password policy.
   * Messages start with the field they are about (`currentPassword: …`, `newPassword: …`).
   */
  async changePassword(actorId: string, current: string, next: string): Promise<AccountRef> {
    const row = await dbCall(() =>
      this.repo
        .createQueryBuilder('a')
        .addSelect('a.passwordHash')
        .where('a.actor_id = :actorId', { actorId })
        .getOne(),
    );
    if (!row) throw AccountsErrors.noPassword();
    const ok =
      current.length <= MAX_PASSWORD_LENGTH * 4 &&
      (await this.hasher.verify(row.passwordHash ?? null, current));
    if (!ok) throw AccountsErrors.wrongPassword();
    if (next === current) {
      throw AccountsErrors.passwordRefused('newPassword: choose a password you do not use now.');
    }
    const problem = this.passwordProblem(next, [row.username, row.email]);
    if (problem) throw AccountsErrors.passwordRefused(`newPassword: ${problem}`);
    return dbCall(() => this.dataSource.transaction((m) => this.setPassword(m, row.id, next)));
  }

  async findByActorId(actorId: string): Promise<LocalAccountEntity | null> {
    return dbCall(() => this.repo.findOneBy({ actorId }));
  }

  async findById(id: string): Promise<LocalAccountEntity | null> {
    return dbCall(() => this.repo.findOneBy({ id }));
  }
}
