import { safeReturnTo } from 'src/web/form';

describe('safeReturnTo (no open redirect after sign-in)', () => {
  it('accepts our authorization endpoint only', () => {
    expect(safeReturnTo('/oauth2/authorize?client_id=a&state=b')).toBe(
      '/oauth2/authorize?client_id=a&state=b',
    );
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
  ])('refuses %j', (value) => {
    expect(safeReturnTo(value)).toBeNull();
  });

  it('refuses non-strings and overlong values', () => {
    expect(safeReturnTo(['/oauth2/authorize'])).toBeNull();
    expect(safeReturnTo(`/oauth2/authorize?${'a'.repeat(5000)}`)).toBeNull();
  });
});
