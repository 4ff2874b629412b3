import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { isForbiddenAddress, isForbiddenHostname } from 'src/outbound/address-policy';

export type OutboundFailure =
  'timeout' | 'too_large' | 'refused_address' | 'network' | 'redirect' | 'bad_url';

export class OutboundError extends Error {
  constructor(
    readonly failure: OutboundFailure,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface OutboundRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Every call Bridgekeeper makes to an identity provider goes through here: a total timeout, a response
 * size cap, no redirects, and refusal of link-local/metadata addresses at connect time (after DNS, so a
 * hostname that resolves to 169.254.169.254 is refused too) unless explicitly allowed.
 */
@Injectable()
export class OutboundHttpService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  request(url: string, req: OutboundRequest = {}): Promise<OutboundResponse> {
    const { timeoutMs, maxResponseBytes, allowLinkLocal } = this.config.outbound;
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.reject(new OutboundError('bad_url', 'invalid URL'));
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return Promise.reject(new OutboundError('bad_url', 'only http and https are allowed'));
    }
    if (!allowLinkLocal && isForbiddenHostname(target.hostname)) {
      return Promise.reject(new OutboundError('refused_address', 'destination not allowed'));
    }
    const lookup = (
      hostname: string,
      options: object,
      callback: (
        err: NodeJS.ErrnoException | null,
        address: string | LookupAddress[],
        family?: number,
      ) => void,
    ) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, []);
        const list = addresses as LookupAddress[];
        const allowed = allowLinkLocal ? list : list.filter((a) => !isForbiddenAddress(a.address));
        if (allowed.length === 0) {
          return callback(
            Object.assign(new Error('destination not allowed'), { code: 'EREFUSEDADDR' }),
            [],
          );
        }
        if ((options as { all?: boolean }).all) return callback(null, allowed);
        callback(null, allowed[0].address, allowed[0].family);
      });
    };
    const literalHost = target.hostname.replace(/^\[|\]$/g, '');
    if (!allowLinkLocal && /^[\d.]+$|:/.test(literalHost) && isForbiddenAddress(literalHost)) {
      return Promise.reject(new OutboundError('refused_address', 'destination not allowed'));
    }
    const client = target.protocol === 'https:' ? https : http;

    return new Promise<OutboundResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: OutboundError | null, res?: OutboundResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(res as OutboundResponse);
      };
      const request = client.request(
        target,
        {
          method: req.method ?? 'GET',
          headers: {
            accept: 'application/json',
            'user-agent': 'bridgekeeper',
            ...(req.headers ?? {}),
          },
          lookup: lookup as never,
          agent: false,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400) {
            res.resume();
            request.destroy();
            return finish(new OutboundError('redirect', 'redirects are not followed'));
          }
          const declared = Number(res.headers['content-length']);
          if (Number.isFinite(declared) && declared > maxResponseBytes) {
            request.destroy();
            return finish(new OutboundError('too_large', 'response too large'));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxResponseBytes) {
              request.destroy();
              finish(new OutboundError('too_large', 'response too large'));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () =>
            finish(null, { status, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', () => finish(new OutboundError('network', 'response interrupted')));
        },
      );
      const timer = setTimeout(() => {
        request.destroy();
        finish(new OutboundError('timeout', `no complete answer within ${timeoutMs} ms`));
      }, timeoutMs);
      request.on('error', (err: NodeJS.ErrnoException) => {
        finish(
          err.code === 'EREFUSEDADDR'
            ? new OutboundError('refused_address', 'destination not allowed')
            : new OutboundError('network', err.code ?? 'network error'),
        );
      });
      if (req.body !== undefined) request.write(req.body);
      request.end();
    });
  }
}
