import { Controller, Delete, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Public } from 'src/common/decorators/public.decorator';
import { toKnownError } from 'src/common/errors/app-error';
import { sendHttpError } from 'src/common/filters/http-exception.filter';
import { LOGGER } from 'src/common/logging/logging.constants';
import { McpAccess, type McpRequest } from 'src/mcp/mcp-access';
import { InsufficientScopeError } from 'src/mcp/mcp.errors';
import { McpService } from 'src/mcp/mcp.service';

/** The request headers the MCP transport reads; nothing else (no cookies, no Authorization) is passed. */
const FORWARDED_HEADERS = ['accept', 'content-type', 'mcp-protocol-version'];

/**
 * `/mcp`: MCP Streamable HTTP, stateless. Public for the global guard because it authenticates itself:
 * only MCP-resource tokens, and its 401/403 answers carry the RFC 9728 challenge MCP clients follow.
 */
@Controller('mcp')
@Public()
export class McpController {
  constructor(
    private readonly access: McpAccess,
    private readonly mcp: McpService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  async post(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    try {
      this.access.assertOrigin(req.headers.origin);
      const caller = await this.access.authenticate(req as McpRequest);
      this.mcp.assertScopes(caller, req.body);
      const headers = new Headers();
      for (const name of FORWARDED_HEADERS) {
        const v = req.headers[name];
        if (typeof v === 'string') headers.set(name, v);
      }
      const request = new Request(this.access.resource, {
        method: 'POST',
        headers,
        body: JSON.stringify(req.body ?? null),
      });
      const response = await this.mcp.handle(caller, request, req.body);
      reply.code(response.status).header('cache-control', 'no-store');
      response.headers.forEach((value, name) => {
        void reply.header(name, value);
      });
      const text = await response.text();
      void reply.send(text.length > 0 ? text : undefined);
    } catch (err) {
      this.refuse(req, reply, err);
    }
  }

  /** No server-initiated stream and no session to end: the endpoint is stateless (POST only). */
  @Get()
  @Delete()
  notAllowed(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    try {
      this.access.assertOrigin(req.headers.origin);
      void reply
        .code(405)
        .header('allow', 'POST')
        .header('cache-control', 'no-store')
        .send({ error: 'method_not_allowed', error_description: 'Use POST: /mcp is stateless' });
    } catch (err) {
      this.refuse(req, reply, err);
    }
  }

  private refuse(req: FastifyRequest, reply: FastifyReply, err: unknown): void {
    if (err instanceof InsufficientScopeError) {
      // RFC 6750 §3.1 / MCP authorization §Scope challenge: the scope the call needs, to ask for.
      void reply
        .code(err.answer.status)
        .header('www-authenticate', this.access.challenge(err, err.answer.challenge))
        .header('cache-control', 'no-store')
        .send(err.answer.body);
      return;
    }
    const known = toKnownError(err);
    sendHttpError(this.logger, req, reply, err, (res): Record<string, string> =>
      known && res.status === 401 ? { 'www-authenticate': this.access.challenge(known) } : {},
    );
  }
}
