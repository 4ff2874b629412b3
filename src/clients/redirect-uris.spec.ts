import { matchesRegisteredUri, redirectUriProblem } from 'src/clients/redirect-uris';

describe('redirect URIs', () => {
  it.each([
    'https://app.example.com/callback',
    'https://app.example.com/cb?x=1',
    'http://127.0.0.1:8080/callback',
    'http://[::1]/cb',
    'http://localhost:3000/cb',
    'com.example.app:/oauth2redirect',
  ])('accepts %s', (uri) => expect(redirectUriProblem(uri)).toBeUndefined());

  it.each([
    ['', 'empty'],
    ['/relative', 'absolute'],
    ['https://app.example.com/cb#x', 'fragment'],
    ['http://app.example.com/cb', 'loopback'],
    ['https://*.example.com/cb', 'wildcard'],
    ['https://u:p@app.example.com/cb', 'user info'],
    ['javascript:alert(1)', 'https'],
    ['data:text/html,x', 'https'],
    ['https://APP.example.com/cb', 'normalized'],
    ['https://app.example.com', 'normalized'],
  ])('refuses %s (%s)', (uri, why) => expect(redirectUriProblem(uri)).toContain(why));

  it('matches exactly, with no normalization of the request', () => {
    const reg = ['https://app.example.com/cb'];
    expect(matchesRegisteredUri('https://app.example.com/cb', reg)).toBe(true);
    expect(matchesRegisteredUri('https://app.example.com/cb/', reg)).toBe(false);
    expect(matchesRegisteredUri('https://app.example.com/cb?x=1', reg)).toBe(false);
    expect(matchesRegisteredUri('https://APP.example.com/cb', reg)).toBe(false);
    expect(matchesRegisteredUri('https://app.example.com:443/cb', reg)).toBe(false);
    expect(matchesRegisteredUri('https://app.example.com.evil.test/cb', reg)).toBe(false);
  });

  it('lets a loopback IP client vary the port only (RFC 8252 §7.3)', () => {
    const reg = ['http://127.0.0.1/cb', 'http://[::1]:9000/cb'];
    expect(matchesRegisteredUri('http://127.0.0.1:53123/cb', reg)).toBe(true);
    expect(matchesRegisteredUri('http://[::1]:1234/cb', reg)).toBe(true);
    expect(matchesRegisteredUri('http://127.0.0.1:53123/other', reg)).toBe(false);
    expect(matchesRegisteredUri('https://127.0.0.1:53123/cb', reg)).toBe(false);
    expect(matchesRegisteredUri('http://localhost:53123/cb', ['http://localhost/cb'])).toBe(false);
  });
});
