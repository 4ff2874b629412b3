import { randomUUID } from 'node:crypto';
import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import type { RunningBridgekeeper } from '../support/bridgekeeper';
import { type IdpAndNode, startIdpAndNode } from '../support/idp-node';

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Over Node's 16 KiB limit for the request head. */
const HUGE = 'a'.repeat(32 * 1024);

interface RawExchange {
  statusLine: string;
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent. */
  raw: string;
  /** The server closed the connection (it did not wait for a request that will never come). */
  closed: boolean;
}

function parseRaw(text: string, closed: boolean): RawExchange {
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { statusLine, headers, body, raw: text, closed };
}

/**
 * Sends raw bytes on a fresh connection and reads until the server closes it. A server that kept the
 * connection open would leave `closed` false when the test's own deadline cuts it.
 */
function rawExchange(url: string, bytes: string): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let text = '';
    const deadline = setTimeout(() => {
      socket.destroy();
      resolve(parseRaw(text, false));
    }, 10_000);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('end', () => {
      clearTimeout(deadline);
      socket.end();
      resolve(parseRaw(text, true));
    });
    socket.on('error', (err) => {
      clearTimeout(deadline);
      reject(err);
    });
  });
}

// Issue 12 bug 7: the HTTP contract holds even for requests that never reach a route (a head over the
// limit, malformed HTTP) and for bodies a route does not take: the one error format, a request id, never
// cached, never a 500, and no keep-alive client ever loses a request to a connection we closed.
describe('HTTP contract', () => {
  let env: IdpAndNode;
  let bk: RunningBridgekeeper;
  let admin: string;

  beforeAll(async () => {
    env = await startIdpAndNode();
    ({ bk, adminToken: admin } = env);
  });

  afterAll(() => env?.close());

  describe('requests Node refuses before routing', () => {
    it('answers a header over the limit with 431 in the error format, a request id, no-store, and closes the connection', async () => {
      const res = await rawExchange(
        bk.url,
        `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${HUGE}\r\n\r\n`,
      );
      expect(res.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expect(res.headers['x-request-id']).toMatch(REQUEST_ID);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.connection).toBe('close');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
      expect(JSON.parse(res.body)).toEqual({
        error: 'request_header_fields_too_large',
        error_description: 'The request headers are larger than the server accepts',
      });
      expect(res.closed).toBe(true);
      // The id is the one in the log line, which never carries the headers that were sent.
      const line = bk.logs.find((l) => l.includes(res.headers['x-request-id']!));
      expect(line).toContain('"status":431');
      expect(bk.logs.join('\n')).not.toContain('aaaaaaaaaaaaaaaa');
    });

    it('answers a header over the limit sent with a bearer token without the token reaching a log', async () => {
      const token = `eyJ${randomUUID()}`;
      const res = await rawExchange(
        bk.url,
        `GET /oauth2/userinfo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Big: ${HUGE}\r\n\r\n`,
      );
      expect(res.statusLine).toContain(' 431 ');
      expect(res.closed).toBe(true);
      expect(bk.logs.join('\n')).not.toContain(token);
    });

    it('answers malformed HTTP with 400 in the error format, a request id, no-store, and closes the connection', async () => {
      const res = await rawExchange(bk.url, 'NOT HTTP AT ALL\r\n\r\n');
      expect(res.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(res.headers['x-request-id']).toMatch(REQUEST_ID);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.connection).toBe('close');
      expect(JSON.parse(res.body)).toEqual({
        error: 'invalid_request',
        error_description: 'The request is not valid HTTP',
      });
      expect(res.closed).toBe(true);
    });

    it('answers a pipelined request after a good one without corrupting the first answer', async () => {
      const res = await rawExchange(
        bk.url,
        `GET /health/live HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${HUGE}\r\n\r\n`,
      );
      expect(res.statusLine).toBe('HTTP/1.1 200 OK');
      const second = res.raw.indexOf('HTTP/1.1 431 ');
      expect(second).toBeGreaterThan(0);
      expect(res.raw.slice(second)).toContain('Connection: close');
      expect(res.closed).toBe(true);
    });

    it('tells a keep-alive fetch client to drop the connection, and its next request succeeds', async () => {
      const refused = await fetch(`${bk.url}/health/live`, { headers: { 'x-big': HUGE } });
      expect(refused.status).toBe(431);
      expect(refused.headers.get('connection')).toBe('close');
      expect(refused.headers.get('x-request-id')).toMatch(REQUEST_ID);
      expect(refused.headers.get('cache-control')).toBe('no-store');
      expect(((await refused.json()) as { error: string }).error).toBe(
        'request_header_fields_too_large',
      );
      for (let i = 0; i < 5; i++) {
        const next = await fetch(`${bk.url}/health/live`);
        expect(next.status).toBe(200);
        await next.text();
      }
    });

    it('never lets a keep-alive agent with one socket reuse the refused connection', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const get = (headers: Record<string, string> = {}) =>
        new Promise<{ status: number; connection?: string; socket: unknown }>((resolve, reject) => {
          const req = httpRequest(`${bk.url}/health/live`, { agent, headers }, (res) => {
            res.resume();
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                connection: res.headers.connection,
                socket: req.socket,
              }),
            );
          });
          req.on('error', reject);
          req.end();
        });
      try {
        const first = await get();
        const refused = await get({ 'x-big': HUGE });
        const next = await get();
        expect([first.status, refused.status, next.status]).toEqual([200, 431, 200]);
        expect(refused.connection).toBe('close');
        expect(next.socket).not.toBe(refused.socket);
      } finally {
        agent.destroy();
      }
    });
  });

  describe('request bodies', () => {
    const inviteUrl = () => `${bk.url}/admin/projects/${randomUUID()}/invite`;

    async function send(
      url: string,
      contentType: string | undefined,
      body: string | undefined,
      token: string | undefined = admin,
    ) {
      const headers: Record<string, string> = {};
      if (contentType) headers['content-type'] = contentType;
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(url, { method: 'POST', headers, body });
      const text = await res.text();
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get('x-request-id')).toMatch(REQUEST_ID);
      expect(res.headers.get('cache-control')).toBe('no-store');
      return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
    }

    it.each([
      ['text/plain', 'hello'],
      ['text/plain', '{"resourceType":"Practitioner","firstName":"A","lastName":"B"}'],
      ['application/x-www-form-urlencoded', 'resourceType=Practitioner&firstName=A&lastName=B'],
      ['application/xml', '<invite/>'],
      ['multipart/form-data; boundary=x', '--x--'],
    ])('refuses %s at a JSON REST route with 415 naming application/json', async (type, body) => {
      const res = await send(inviteUrl(), type, body);
      expect(res).toEqual({
        status: 415,
        body: {
          error: 'unsupported_media_type',
          error_description: 'The body must be application/json',
        },
      });
    });

    it('refuses a wrong media type before asking for a token (nothing is parsed for a refused body)', async () => {
      const res = await send(inviteUrl(), 'text/plain', 'hello', undefined);
      expect(res.status).toBe(415);
    });

    it.each(['[1,2]', '[]', '"x"', '42', 'null', 'true'])(
      'refuses the JSON body %s at a JSON REST route with one clear 400, not a list of fields',
      async (body) => {
        const res = await send(inviteUrl(), 'application/json', body);
        expect(res).toEqual({
          status: 400,
          body: { error: 'invalid_request', error_description: 'The body must be a JSON object' },
        });
      },
    );

    it('refuses a JSON route without a body with the same 400', async () => {
      const res = await send(inviteUrl(), undefined, undefined);
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: 'The body must be a JSON object',
      });
    });

    it('answers malformed and empty JSON with a fixed description that never echoes the body', async () => {
      const bad = await send(inviteUrl(), 'application/json', '{"firstName": s3cr3t}');
      expect(bad).toEqual({
        status: 400,
        body: {
          error: 'invalid_request',
          error_description: "Body is not valid JSON but content-type is set to 'application/json'",
        },
      });
      const empty = await send(inviteUrl(), 'application/json', '');
      expect(empty.status).toBe(400);
      expect(empty.body.error_description).toBe(
        "Body cannot be empty when content-type is set to 'application/json'",
      );
    });

    it('still validates the fields of a JSON object', async () => {
      const res = await send(inviteUrl(), 'application/json; charset=utf-8', '{"firstName":"A"}');
      expect(res.status).toBe(400);
      expect(res.body.error_description).toMatch(/resourceType/);
    });

    it.each([
      ['text/plain', '{"query":"{ __typename }"}'],
      ['application/x-www-form-urlencoded', 'query=%7B__typename%7D'],
      ['multipart/form-data; boundary=x', '--x--'],
      ['application/graphql', '{ __typename }'],
    ])('refuses %s at POST /graphql with 415 naming application/json', async (type, body) => {
      const res = await send(`${bk.url}/graphql`, type, body);
      expect(res).toEqual({
        status: 415,
        body: {
          error: 'unsupported_media_type',
          error_description: 'The body must be application/json',
        },
      });
    });

    it.each(['[{"query":"{ __typename }"}]', '"{ __typename }"', 'null'])(
      'refuses the JSON body %s at POST /graphql with the same 400 as REST',
      async (body) => {
        const res = await send(`${bk.url}/graphql`, 'application/json', body);
        expect(res).toEqual({
          status: 400,
          body: { error: 'invalid_request', error_description: 'The body must be a JSON object' },
        });
      },
    );

    it('still answers a GraphQL query sent as JSON, and keeps CSRF prevention for GET', async () => {
      const ok = await send(`${bk.url}/graphql`, 'application/json', '{"query":"{ __typename }"}');
      expect(ok).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
      const get = await fetch(`${bk.url}/graphql?query=%7B__typename%7D`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(get.status).toBe(400);
      expect(await get.text()).toContain('CSRF');
    });

    it.each(['/oauth2/token', '/oauth2/revoke', '/oauth2/introspect'])(
      '%s takes form bodies and answers any other body with the OAuth 400 invalid_request',
      async (path) => {
        for (const [type, body] of [
          ['application/json', '{"grant_type":"client_credentials"}'],
          ['application/json', '[1]'],
          ['text/plain', 'grant_type=client_credentials'],
          [undefined, undefined],
        ] as const) {
          const res = await send(`${bk.url}${path}`, type, body, undefined);
          expect(res).toEqual({
            status: 400,
            body: {
              error: 'invalid_request',
              error_description: 'The body must be application/x-www-form-urlencoded',
            },
          });
        }
        const form = await send(
          `${bk.url}${path}`,
          'application/x-www-form-urlencoded',
          'client_id=bkc_nosuch&client_secret=x&grant_type=client_credentials&token=t',
          undefined,
        );
        expect(form.status).toBe(401);
        expect(form.body.error).toBe('invalid_client');
      },
    );

    it('POST /oauth2/userinfo takes a form, a JSON object or no body (all ignored), and refuses text', async () => {
      for (const [type, body] of [
        [undefined, undefined],
        ['application/x-www-form-urlencoded', ''],
        ['application/json', '{}'],
      ]) {
        const ok = await send(`${bk.url}/oauth2/userinfo`, type, body);
        expect(ok.status).toBe(200);
        expect(ok.body.subject).toBe('root');
      }
      const text = await send(`${bk.url}/oauth2/userinfo`, 'text/plain', 'x');
      expect(text).toEqual({
        status: 400,
        body: {
          error: 'invalid_request',
          error_description:
            'The body must be application/x-www-form-urlencoded or application/json (or none)',
        },
      });
      const array = await send(`${bk.url}/oauth2/userinfo`, 'application/json', '[]');
      expect(array.status).toBe(400);
      expect(array.body.error_description).toBe('The body must be a JSON object');
    });

    it('POST /oauth2/logout takes a JSON object or no body, and refuses forms with 415', async () => {
      const res = await send(`${bk.url}/oauth2/logout`, 'application/x-www-form-urlencoded', 'a=b');
      expect(res).toEqual({
        status: 415,
        body: {
          error: 'unsupported_media_type',
          error_description: 'The body must be application/json (or none)',
        },
      });
      // An external token cannot be logged out: the body rules let both shapes through to that answer.
      for (const [type, body] of [
        [undefined, undefined],
        ['application/json', '{}'],
      ]) {
        const ok = await send(`${bk.url}/oauth2/logout`, type, body);
        expect(ok.status).toBe(400);
        expect(ok.body.error_description).toMatch(/Only a Bridgekeeper token/);
      }
    });

    it('leaves unknown routes a 404, whatever their body', async () => {
      const res = await send(`${bk.url}/nope`, 'text/plain', 'x');
      expect(res.status).toBe(404);
    });
  });
});
