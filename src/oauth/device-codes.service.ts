import { randomBytes, randomInt } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, LessThan } from 'typeorm';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import { ClientsService } from 'src/clients/clients.service';
import { sha256Hex } from 'src/common/crypto/sha256';
import { dbCall, uniqueViolation } from 'src/common/errors/db-errors';
import { isUuid } from 'src/common/validation/uuid';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { DeviceCodeEntity } from 'src/oauth/grants/device-code.entity';
import { type OauthForm } from 'src/oauth/oauth-form';
import { OauthError, OauthErrors } from 'src/oauth/oauth.errors';
import { checkedPersonScope, defaultScopeFor, targetResource } from 'src/oauth/resource-target';
import { OFFLINE_ACCESS } from 'src/oauth/scopes';
import type { ResourceKind } from 'src/token-validation/oauth-resources';

/** The page where a person enters the user code (RFC 8628 §3.2 `verification_uri`). */
export const DEVICE_PATH = '/device';
/** Device codes are opaque: `bkd_` + 256 random bits; only their SHA-256 is stored. */
const DEVICE_CODE_PREFIX = 'bkd_';
/**
 * RFC 8628 §6.1: user codes of 8 characters from 20 consonants (no vowels: no words; no look-alikes),
 * about 34.5 bits, shown as `BCDF-GHJK`. Guessing is bounded by their lifetime and the per-person
 * throttle on the /device page.
 */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;
/** RFC 8628 §3.5: every `slow_down` adds this many seconds to the interval. */
const SLOW_DOWN_STEP = 5;

export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** A pending request as the /device page shows it to the person asked to approve it. */
export interface PendingDeviceRequest {
  id: string;
  clientId: string;
  clientName: string;
  scope: string[];
  resource: ResourceKind;
  expiresAt: Date;
}

/** The user code as typed: letters only, upper case (`bcdf ghjk` and `BCDF-GHJK` are the same). */
export function normalizeUserCode(input: string): string | undefined {
  const letters = input.toUpperCase().replace(/[\s-]/g, '');
  if (letters.length !== USER_CODE_LENGTH) return undefined;
  for (const c of letters) if (!USER_CODE_ALPHABET.includes(c)) return undefined;
  return letters;
}

export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(20)];
  return code;
}

/**
 * RFC 8628 device authorizations: created at `POST /oauth2/device_authorization`, approved or denied
 * once on the /device page by a signed-in person, redeemed once at the token endpoint by the client
 * that asked, polling no faster than its interval.
 */
@Injectable()
export class DeviceCodesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clients: ClientsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(DeviceCodeEntity);
  }

  async start(client: ClientSnapshot, form: OauthForm): Promise<DeviceAuthorizationResponse> {
    if (!client.grantTypes.includes('device_code')) {
      throw OauthErrors.unauthorizedClient('The client may not use the device authorization grant');
    }
    const resource = targetResource(this.config, form.get('resource'));
    const requested =
      form.get('scope') ??
      defaultScopeFor(resource, client.scopes)
        .filter((s) => s !== OFFLINE_ACCESS)
        .join(' ');
    const scope = checkedPersonScope(client, requested === '' ? undefined : requested, resource);
    if (typeof scope === 'string') throw OauthErrors.invalidScope(scope);
    const ttl = this.config.oauth.deviceCodeTtlSeconds;
    const deviceCode = `${DEVICE_CODE_PREFIX}${randomBytes(32).toString('base64url')}`;
    // Two live requests with one user code would be ambiguous: the unique hash refuses it; try again.
    for (let attempt = 0; ; attempt++) {
      const userCode = newUserCode();
      try {
        await dbCall(() =>
          this.repo.insert({
            deviceCodeHash: sha256Hex(deviceCode),
            userCodeHash: sha256Hex(userCode),
            clientId: client.clientId,
            scope,
            resource,
            intervalSeconds: this.config.oauth.deviceIntervalSeconds,
            expiresAt: new Date(Date.now() + ttl * 1000),
          }),
        );
        const base = `${this.config.publicUrl}${DEVICE_PATH}`;
        const shown = formatUserCode(userCode);
        return {
          device_code: deviceCode,
          user_code: shown,
          verification_uri: base,
          verification_uri_complete: `${base}?user_code=${shown}`,
          expires_in: ttl,
          interval: this.config.oauth.deviceIntervalSeconds,
        };
      } catch (err) {
        if (uniqueViolation(err) === 'uq_oauth_device_codes_user_code' && attempt < 3) {
          // An expired request may still hold it: it lets go, and a new code is drawn.
          await dbCall(() =>
            this.repo.delete({
              userCodeHash: sha256Hex(userCode),
              expiresAt: LessThan(new Date()),
            }),
          );
          continue;
        }
        throw err;
      }
    }
  }

  /** The live, undecided request with this user code, with its client's name; undefined if none. */
  async pending(userCode: string): Promise<PendingDeviceRequest | undefined> {
    const code = normalizeUserCode(userCode);
    if (!code) return undefined;
    const row = await dbCall(() =>
      this.repo.findOne({ where: { userCodeHash: sha256Hex(code), status: 'pending' } }),
    );
    if (!row || row.expiresAt <= new Date()) return undefined;
    const client = await this.clients.findByClientId(row.clientId);
    if (client?.status !== 'ACTIVE') return undefined;
    return {
      id: row.id,
      clientId: client.clientId,
      clientName: client.name,
      scope: row.scope,
      resource: row.resource,
      expiresAt: row.expiresAt,
    };
  }

  /**
   * The person's answer, once: `approved` (by this actor, in this browser session) or `denied`. False
   * when the request is no longer pending (decided already, or expired).
   */
  async decide(
    id: string,
    approve: boolean,
    actorId: string,
    browserSessionId: string,
  ): Promise<boolean> {
    if (!isUuid(id)) return false;
    const result = await dbCall(() =>
      this.dataSource
        .createQueryBuilder()
        .update(DeviceCodeEntity)
        .set(
          approve
            ? { status: 'approved', actorId, browserSessionId }
            : { status: 'denied', actorId, browserSessionId },
        )
        .where("id = :id AND status = 'pending' AND expires_at > now()", { id })
        .execute(),
    );
    return (result.affected ?? 0) === 1;
  }

  /**
   * A poll of the token endpoint (RFC 8628 §3.4, §3.5). The row is locked, so of two concurrent polls
   * one sees `used`. Returns the approved request (now used); otherwise the error the client is due:
   * `slow_down` (faster than its interval, which grows by 5 s), `authorization_pending`,
   * `access_denied`, `expired_token`, or `invalid_grant` (unknown, another client's, or used).
   */
  async redeem(clientId: string, deviceCode: string): Promise<DeviceCodeEntity> {
    if (!deviceCode.startsWith(DEVICE_CODE_PREFIX) || deviceCode.length > 200) {
      throw OauthErrors.invalidGrant('device_code_unknown');
    }
    const outcome = await dbCall(() =>
      this.dataSource.transaction(async (m): Promise<DeviceCodeEntity | OauthError> => {
        const repo = m.getRepository(DeviceCodeEntity);
        const row = await repo
          .createQueryBuilder('d')
          .setLock('pessimistic_write')
          .where('d.device_code_hash = :h', { h: sha256Hex(deviceCode) })
          .getOne();
        if (!row) return OauthErrors.invalidGrant('device_code_unknown');
        if (row.clientId !== clientId) return OauthErrors.invalidGrant('device_code_other_client');
        if (row.status === 'used') return OauthErrors.invalidGrant('device_code_reuse');
        const now = new Date();
        if (row.expiresAt <= now) return deviceError('expired_token', 'The device code expired');
        if (row.status === 'denied') {
          return deviceError('access_denied', 'The person denied the request');
        }
        const tooSoon =
          row.lastPolledAt !== null &&
          now.getTime() - row.lastPolledAt.getTime() < row.intervalSeconds * 1000;
        if (tooSoon) {
          await repo.update(
            { id: row.id },
            { lastPolledAt: now, intervalSeconds: row.intervalSeconds + SLOW_DOWN_STEP },
          );
          return deviceError(
            'slow_down',
            `Poll at most every ${row.intervalSeconds + SLOW_DOWN_STEP} seconds`,
          );
        }
        if (row.status === 'pending') {
          await repo.update({ id: row.id }, { lastPolledAt: now });
          return deviceError('authorization_pending', 'The person has not answered yet');
        }
        await repo.update({ id: row.id }, { status: 'used', lastPolledAt: now });
        return row;
      }),
    );
    if (outcome instanceof OauthError) throw outcome;
    return outcome;
  }
}

function deviceError(
  error: 'authorization_pending' | 'slow_down' | 'access_denied' | 'expired_token',
  description: string,
): OauthError {
  return new OauthError(error, description);
}
