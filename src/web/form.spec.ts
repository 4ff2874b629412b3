import { redirectTargetOf, safeReturnTo } from 'src/web/form';

describe('safeReturnTo (no open redirect after sign-in)', () => {
  it('accepts our authorization endpoint and device page only', () => {
    expect(safeReturnTo('/oauth2/authorize?client_id=a&state=b')).toBe(
      '/oauth2/authorize?client_id=a&state=b',
    );
    expect(safeReturnTo('/device?user_code=BCDF-GHJK')).toBe('/device?user_code=BCDF-GHJK');
    expect(safeReturnTo('/device')).toBe('/device');
    expect(safeReturnTo('/oauth2/authorize')).toBe('/oauth2/authorize');
    expect(safeReturnTo(undefined)).toBeUndefined();
    expect(safeReturnTo('')).toBeUndefined();
  });

  it.each([
    'https://evil.example/oauth2/authorize?x',
    '//evil.example/oauth2/authorize?x',
    '/\\evil.example',
    '/oauth2/authorizeX',
    '/oauth2/authorize/../../admin',
    '/oauth2/authorize?\r\nLocation: https://evil.example',
    '/oauth2/authorize?x#frag',
    '/login',
    'oauth2/authorize?x',
    '/devices',
    '/device/../admin',
    '//device?x',
  ])('refuses %j', (value) => {
    expect(safeReturnTo(value)).toBeNull();
  });

  it('refuses non-strings and overlong values', () => {
    expect(safeReturnTo(['/oauth2/authorize'])).toBeNull();
    expect(safeReturnTo(`/oauth2/authorize?${'a'.repeat(5000)}`)).toBeNull();
  });
});

describe('redirectTargetOf (form-action for the redirect chain after sign-in)', () => {
  const at = (redirectUri: string) =>
    `/oauth2/authorize?client_id=a&redirect_uri=${encodeURIComponent(redirectUri)}`;

  it('allows the origin of an http(s) redirect URI, or the scheme of a native one', () => {
    expect(redirectTargetOf(at('https://app.example/cb?x=1'))).toEqual(['https://app.example']);
    expect(redirectTargetOf(at('http://127.0.0.1:51000/cb'))).toEqual(['http://127.0.0.1:51000']);
    expect(redirectTargetOf(at('com.example.app:/oauth'))).toEqual(['com.example.app:']);
  });

  it('allows nothing for a missing, malformed or dangerous redirect URI', () => {
    expect(redirectTargetOf(undefined)).toEqual([]);
    expect(redirectTargetOf('/oauth2/authorize')).toEqual([]);
    expect(redirectTargetOf(at('not a url'))).toEqual([]);
    expect(redirectTargetOf(at('javascript:alert(1)'))).toEqual([]);
    expect(redirectTargetOf(at('data:text/html,x'))).toEqual([]);
  });
});
