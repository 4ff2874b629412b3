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
}

/** `{{name}}`-style placeholders; values are inserted as text, with line breaks removed from headers. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, key: string) => values[key] ?? m);
}

/**
 * Welcome emails for invites, through the configured SMTP server (`bridgekeeper.smtp.url`). Without
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

  async sendInvite(mail: InviteEmail): Promise<boolean> {
    if (!this.transport) return false;
    // Caller-supplied values are plain text on one line: no control characters reach the message.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point here
    const text = (v: string) => v.replace(/[\u0000-\u001f\u007f]+/g, ' ');
    const values = {
      name: text(mail.name),
      project: text(mail.project),
      link: this.config.smtp.signInUrl,
    };
    try {
      await this.transport.sendMail({
        from: this.config.smtp.from,
        to: mail.to,
        subject: renderTemplate(this.config.smtp.inviteSubject, values).replace(/[\r\n]+/g, ' '),
        text: renderTemplate(this.config.smtp.inviteBody.replace(/\\n/g, '\n'), values),
      });
      return true;
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'invite email not sent');
      return false;
    }
  }

  onApplicationShutdown(): void {
    this.transport?.close();
  }
}
