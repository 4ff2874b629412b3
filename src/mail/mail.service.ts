import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';

export interface InviteEmail {
  to: string;
  name: string;
  project: string;
  /** The `{{link}}`: a one-time set-password link, or (absent) `bridgekeeper.invite.signin.url`. */
  link?: string;
}

export interface PasswordResetEmail {
  to: string;
  name: string;
  link: string;
  hours: number;
}

/** `{{name}}`-style placeholders; values are inserted as text, with line breaks removed from headers. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, key: string) => values[key] ?? m);
}

/**
 * Welcome emails for invites and password-reset links, through the configured SMTP server (`bridgekeeper.smtp.url`). Without
 * one, nothing is sent and callers are told so. A failed send never fails the invite: it is logged and
 * reported as not sent.
 */
@Injectable()
export class MailService implements OnApplicationShutdown {
  private readonly transport?: Transporter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    if (config.smtp.url) {
      const url = new URL(config.smtp.url);
      const secure = url.protocol === 'smtps:';
      this.transport = createTransport({
        host: url.hostname,
        port: url.port ? Number(url.port) : secure ? 465 : 587,
        secure,
        ...(url.username
          ? {
              auth: {
                user: decodeURIComponent(url.username),
                pass: decodeURIComponent(url.password),
              },
            }
          : {}),
        connectionTimeout: 5000,
        greetingTimeout: 5000,
        socketTimeout: 10000,
      });
    }
  }

  get enabled(): boolean {
    return this.transport !== undefined;
  }

  sendInvite(mail: InviteEmail): Promise<boolean> {
    return this.send(
      'invite',
      mail.to,
      this.config.smtp.inviteSubject,
      this.config.smtp.inviteBody,
      {
        name: mail.name,
        project: mail.project,
        link: mail.link ?? this.config.smtp.signInUrl,
      },
    );
  }

  /** A password-reset link (the operator's reset templates). */
  sendPasswordReset(mail: PasswordResetEmail): Promise<boolean> {
    return this.send(
      'password-reset',
      mail.to,
      this.config.smtp.resetSubject,
      this.config.smtp.resetBody,
      {
        name: mail.name,
        product: 'Bridgekeeper',
        link: mail.link,
        hours: String(mail.hours),
      },
    );
  }

  private async send(
    what: 'invite' | 'password-reset',
    to: string,
    subjectTemplate: string,
    bodyTemplate: string,
    raw: Record<string, string>,
  ): Promise<boolean> {
    if (!this.transport) return false;
    // Caller-supplied values are plain text on one line: no control characters reach the message.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point here
    const text = (v: string) => v.replace(/[\u0000-\u001f\u007f]+/g, ' ');
    const values = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, text(v)]));
    try {
      await this.transport.sendMail({
        from: this.config.smtp.from,
        to,
        subject: renderTemplate(subjectTemplate, values).replace(/[\r\n]+/g, ' '),
        text: renderTemplate(bodyTemplate.replace(/\\n/g, '\n'), values),
      });
      return true;
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, `${what} email not sent`);
      return false;
    }
  }

  onApplicationShutdown(): void {
    this.transport?.close();
  }
}
