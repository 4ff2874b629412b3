import { SMTPServer } from 'smtp-server';
import { freePort, waitFor } from './ports';

export interface ReceivedMail {
  to: string[];
  raw: string;
}

/**
 * A real SMTP server on a free loopback port that keeps every message it accepts (no TLS, no auth), for
 * the invite and password-reset emails.
 */
export class SmtpTestServer {
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    /** Every message accepted so far, oldest first. */
    readonly received: ReceivedMail[],
  ) {}

  static async start(): Promise<SmtpTestServer> {
    const port = await freePort();
    const received: ReceivedMail[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        let raw = '';
        stream.on('data', (d: Buffer) => (raw += d.toString()));
        stream.on('end', () => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
          callback();
        });
      },
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return new SmtpTestServer(server, port, received);
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /**
   * The decoded text (quoted-printable soft breaks and `=3D` undone) of the first message to `to`
   * received after the first `after` messages, waiting up to 5 s for it.
   */
  async textSentTo(to: string, after = 0): Promise<string> {
    await waitFor(
      'the email',
      async () => this.received.slice(after).some((m) => m.to.includes(to)),
      5000,
    );
    const mail = this.received.slice(after).find((m) => m.to.includes(to))!;
    return mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  }

  /** The one-time set-password link in the newest email to `to` after `after` messages. */
  async setPasswordLinkSentTo(to: string, after = 0): Promise<string> {
    const text = await this.textSentTo(to, after);
    const m = /(http:\/\/[^\s]+\/login\/set-password\?token=[A-Za-z0-9_-]{43})/.exec(text);
    if (!m) throw new Error('no set-password link in the email');
    return m[1];
  }

  stop(): Promise<void> {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}
