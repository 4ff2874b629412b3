import { Controller, Get, Inject, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  type BrowserSession,
  BrowserSessionsService,
} from 'src/browser-sessions/browser-sessions.service';
import { CacheKeys } from 'src/cache/cache-keys';
import { CacheService } from 'src/cache/cache.service';
import { Public } from 'src/common/decorators/public.decorator';
import { Csrf } from 'src/common/html/csrf';
import { formFields } from 'src/common/html/form-fields';
import { html, type SafeHtml } from 'src/common/html/html';
import { sendErrorPage, sendPage } from 'src/common/html/page';
import { WebExceptionFilter } from 'src/common/html/web-exception.filter';
import { LOGGER } from 'src/common/logging/logging.constants';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import {
  DEVICE_PATH,
  DeviceCodesService,
  type PendingDeviceRequest,
  normalizeUserCode,
} from 'src/oauth/device-codes.service';
import { SCOPE_WORDS } from 'src/oauth/scopes';

const ENTER_PURPOSE = 'device';
const DECIDE_PURPOSE = 'device-decision';
const CSRF_REFUSED =
  'This form expired or was sent from another site. Go back, reload the page and try again.';
const UNKNOWN_CODE = 'That code is not valid, was already used, or has expired.';
/** RFC 8628 §5.1: wrong user codes a person may enter before a pause (per person, every node). */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_SECONDS = 600;

/**
 * The device page (RFC 8628 §3.3): a signed-in person enters the user code a command line or device
 * shows (or follows `verification_uri_complete`, which only fills it in), sees which application asks
 * for what, and approves or denies once. Same look, CSRF and CSP as the login pages; signing in goes
 * through the login page (password or SSO) and comes back here.
 */
@Controller()
@Public()
@UseFilters(WebExceptionFilter)
export class DevicePageController {
  private readonly csrf: Csrf;

  constructor(
    private readonly sessions: BrowserSessionsService,
    private readonly devices: DeviceCodesService,
    private readonly cache: CacheService,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.csrf = new Csrf(config.publicUrl);
  }

  @Get('device')
  async page(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('user_code') userCode: unknown,
  ): Promise<FastifyReply> {
    const code = typeof userCode === 'string' && userCode.length <= 64 ? userCode : '';
    const session = await this.sessions.current(request);
    if (!session) {
      const back = code ? `${DEVICE_PATH}?user_code=${encodeURIComponent(code)}` : DEVICE_PATH;
      return reply
        .header('cache-control', 'no-store')
        .redirect(`/login?${new URLSearchParams({ return_to: back }).toString()}`, 303);
    }
    // A code in the link only fills the form in: the person still confirms what they typed or saw.
    return this.entryForm(request, reply, session, 200, normalizeUserCode(code) ? code : '');
  }

  @Post('device')
  @AcceptsBody('form')
  async enter(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const session = await this.sessions.current(request);
    if (!session) return this.signedOut(reply);
    const f = formFields(request);
    if (!this.csrf.verify(request, ENTER_PURPOSE, session.id, f.csrf)) {
      return sendErrorPage(reply, 403, 'Request refused', CSRF_REFUSED);
    }
    const failures = (await this.cache.get<number>(this.failuresKey(session))) ?? 0;
    if (failures >= MAX_FAILURES) {
      return this.entryForm(
        request,
        reply,
        session,
        429,
        '',
        `Too many wrong codes. Try again in ${FAILURE_WINDOW_SECONDS / 60} minutes.`,
        FAILURE_WINDOW_SECONDS,
      );
    }
    const pending = await this.devices.pending(f.user_code ?? '');
    if (!pending) {
      await this.cache.set(this.failuresKey(session), failures + 1, FAILURE_WINDOW_SECONDS * 1000);
      this.logger.info({ actorId: session.actorId }, 'device user code refused');
      return this.entryForm(request, reply, session, 400, f.user_code ?? '', UNKNOWN_CODE);
    }
    return this.confirmation(request, reply, session, pending);
  }

  @Post('device/decision')
  @AcceptsBody('form')
  async decide(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const session = await this.sessions.current(request);
    if (!session) return this.signedOut(reply);
    const f = formFields(request);
    const id = f.request ?? '';
    if (!this.csrf.verify(request, DECIDE_PURPOSE, `${session.id}:${id}`, f.csrf)) {
      return sendErrorPage(reply, 403, 'Request refused', CSRF_REFUSED);
    }
    if (f.decision !== 'approve' && f.decision !== 'deny') {
      return sendErrorPage(reply, 400, 'Request refused', 'Choose Approve or Deny.');
    }
    const approve = f.decision === 'approve';
    const decided = await this.devices.decide(id, approve, session.actorId, session.id);
    if (!decided) {
      return sendErrorPage(
        reply,
        400,
        'Request no longer waiting',
        'This request was already answered or has expired. Start again on your device.',
      );
    }
    this.logger.info(
      { actorId: session.actorId, deviceRequest: id, outcome: approve ? 'approved' : 'denied' },
      'device authorization answered',
    );
    return sendPage(
      reply,
      200,
      html`<p>
        ${
          approve
            ? 'Approved. You can return to your device: it signs in within a few seconds.'
            : 'Denied. The device gets no access.'
        }
      </p>`,
      { title: approve ? 'Device approved' : 'Device denied' },
    );
  }

  private failuresKey(session: BrowserSession): string {
    return CacheKeys.deviceCodeFailures(session.actorId);
  }

  private entryForm(
    request: FastifyRequest,
    reply: FastifyReply,
    session: BrowserSession,
    status: number,
    code: string,
    error?: string,
    retryAfterSeconds?: number,
  ): FastifyReply {
    const token = this.csrf.issue(request, reply, ENTER_PURPOSE, session.id);
    const body: SafeHtml = html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <p>Enter the code shown on your device or command line.</p>
      <form method="post" action="${DEVICE_PATH}">
        <input type="hidden" name="csrf" value="${token}" />
        <label for="user_code">Code</label>
        <input
          id="user_code"
          name="user_code"
          type="text"
          class="code"
          autocomplete="one-time-code"
          autocapitalize="characters"
          spellcheck="false"
          maxlength="20"
          required
          value="${code}"
        />
        <button type="submit">Continue</button>
      </form>`;
    return sendPage(reply, status, body, {
      title: 'Connect a device',
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
  }

  private confirmation(
    request: FastifyRequest,
    reply: FastifyReply,
    session: BrowserSession,
    pending: PendingDeviceRequest,
  ): FastifyReply {
    const token = this.csrf.issue(request, reply, DECIDE_PURPOSE, `${session.id}:${pending.id}`);
    const target =
      pending.resource === 'mcp' ? 'Bridgekeeper’s MCP server (AI agents)' : 'Bridgekeeper’s API';
    const scopes = pending.scope.map(
      (s) => html`<li>${SCOPE_WORDS[s] ?? 'Use the scope'} <span class="hint">(${s})</span></li>`,
    );
    return sendPage(
      reply,
      200,
      html`<p><strong>${pending.clientName}</strong> asks to act as you on ${target}.</p>
        <ul class="scopes">
          ${scopes}
        </ul>
        <p class="hint">
          Only approve if you started this on your own device just now. Client id:
          ${pending.clientId}
        </p>
        <form method="post" action="${DEVICE_PATH}/decision">
          <input type="hidden" name="csrf" value="${token}" />
          <input type="hidden" name="request" value="${pending.id}" />
          <button type="submit" name="decision" value="approve">Approve</button>
          <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
        </form>`,
      { title: 'Approve this device?' },
    );
  }

  private signedOut(reply: FastifyReply): FastifyReply {
    return sendErrorPage(
      reply,
      401,
      'Signed out',
      'You were signed out. Open the device page again and sign in.',
    );
  }
}
