import { OauthForm, parseScope } from 'src/oauth/oauth-form';
import { OauthError } from 'src/oauth/oauth.errors';

const FORM = 'application/x-www-form-urlencoded';

function errorOf(fn: () => unknown): OauthError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OauthError) return err;
    throw err;
  }
  throw new Error('expected an OauthError');
}

describe('OauthForm', () => {
  it('reads single parameters and treats empty ones as omitted', () => {
    const f = OauthForm.parse(`${FORM}; charset=utf-8`, { grant_type: 'x', scope: '' });
    expect(f.get('grant_type')).toBe('x');
    expect(f.get('scope')).toBeUndefined();
    expect(errorOf(() => f.require('scope')).error).toBe('invalid_request');
  });

  it('refuses a repeated parameter (RFC 6749 §3.2) without echoing its value', () => {
    const e = errorOf(() => OauthForm.parse(FORM, { client_secret: ['s3cret', 's3cret'] }));
    expect(e.error).toBe('invalid_request');
    expect(e.description).not.toContain('s3cret');
  });

  it('refuses a body that is not form-encoded', () => {
    expect(errorOf(() => OauthForm.parse('application/json', { a: 'b' })).error).toBe(
      'invalid_request',
    );
    expect(errorOf(() => OauthForm.parse(undefined, undefined)).error).toBe('invalid_request');
  });
});

describe('parseScope', () => {
  it('splits on spaces and drops duplicates', () => {
    expect(parseScope('api  read api')).toEqual(['api', 'read']);
    expect(parseScope(undefined)).toBeUndefined();
  });

  it.each(['a"b', 'a\\b', '\u00e9'])('refuses the non-scope-token %s', (s) => {
    expect(errorOf(() => parseScope(s)).error).toBe('invalid_scope');
  });
});
