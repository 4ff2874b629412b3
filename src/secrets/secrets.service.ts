import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes,
  type CipherGCM,
  type DecipherGCM,
} from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppError } from 'src/common/errors/app-error';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { SecretsErrors } from 'src/secrets/secrets.errors';

/** File under `dataDir` holding the generated development key (base64url of 32 random bytes). */
export const DEV_KEY_FILE = 'secrets.key';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HKDF_SALT = 'bridgekeeper/secrets';
const HKDF_INFO = 'bridgekeeper secrets v1 aes-256-gcm';
const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Authenticated encryption for secrets at rest (SECURITY.md rule 15): AES-256-GCM with a random 96-bit IV,
 * a key derived by HKDF-SHA256 from `bridgekeeper.secrets.key`, and associated data that binds each
 * ciphertext to where it is stored (a ciphertext moved to another row does not decrypt).
 *
 * Output: `v1.<iv>.<tag>.<ciphertext>`, each part base64url. Without a configured key (development mode
 * only: the config loader refuses that in production) a random key is generated once into
 * `<dataDir>/secrets.key` (mode 0600) and reused.
 */
@Injectable()
export class SecretsService {
  private readonly key: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(LOGGER) logger: Logger) {
    const material = config.oauth.secretsKey ?? developmentKey(config, logger);
    this.key = Buffer.from(
      hkdfSync('sha256', Buffer.from(material, 'utf8'), HKDF_SALT, HKDF_INFO, KEY_BYTES),
    );
  }

  encrypt(plaintext: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher: CipherGCM = createCipheriv('aes-256-gcm', this.key, iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv, tag, ct].map((p) => (typeof p === 'string' ? p : b64(p))).join('.');
  }

  /** The plaintext, or an AppError (never quoting the input) when the key or the data is wrong. */
  decrypt(ciphertext: string, aad: string): string {
    const parts = ciphertext.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION || !parts.slice(1).every((p) => B64URL.test(p)))
      throw SecretsErrors.unreadable('not a v1 ciphertext');
    const [iv, tag, ct] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
      throw SecretsErrors.unreadable('malformed ciphertext');
    try {
      const decipher: DecipherGCM = createDecipheriv('aes-256-gcm', this.key, iv, {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw SecretsErrors.unreadable('wrong secrets key or altered data');
    }
  }
}

function b64(b: Buffer): string {
  return b.toString('base64url');
}

/** The development key from `<dataDir>/secrets.key`, created (0600) on first use. Never logged. */
function developmentKey(config: AppConfig, logger: Logger): string {
  if (config.mode === 'production') {
    // The config loader already refuses this; a second guard costs nothing.
    throw new Error('bridgekeeper.secrets.key is required in production mode');
  }
  const file = join(config.dataDir, DEV_KEY_FILE);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  let created = false;
  if (!existsSync(file)) {
    // Written whole under a temporary name, then linked into place: link() fails if the key exists, so
    // two processes starting together agree on one key and neither reads a half-written file.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${randomBytes(KEY_BYTES).toString('base64url')}\n`, { mode: 0o600 });
    try {
      linkSync(tmp, file);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
  if (!created && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const material = readFileSync(file, 'utf8').trim();
  if (!B64URL.test(material) || Buffer.from(material, 'base64url').length !== KEY_BYTES)
    throw new Error(`${file} is not a Bridgekeeper secrets key (expected 32 bytes, base64url)`);
  logger.warn(
    { file },
    created
      ? 'no bridgekeeper.secrets.key configured: generated a development secrets key (not for production)'
      : 'no bridgekeeper.secrets.key configured: using the development secrets key (not for production)',
  );
  return material;
}
