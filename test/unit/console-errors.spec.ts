import { ApiError, fieldErrorsOf, formErrors } from '../../console/src/api/errors';

// Issue 10: the console shows the API's `field: message` errors next to their field. The rules of
// splitting them, on the messages the API really sends.
describe('the console’s form errors', () => {
  it('reads one field per message, and several joined with "; " (the issuer rules)', () => {
    expect(
      fieldErrorsOf([
        { message: 'currentPassword: this is not your current password' },
        {
          message:
            'name: must be lower-case letters and digits; jwksUrl: JWKS answered HTTP 404 (nothing was saved; set skipReachabilityCheck: true to save it anyway)',
        },
        { message: 'input.audiences: at most 50' },
      ]),
    ).toEqual({
      currentPassword: 'this is not your current password',
      name: 'must be lower-case letters and digits',
      jwksUrl:
        'JWKS answered HTTP 404 (nothing was saved; set skipReachabilityCheck: true to save it anyway)',
      audiences: 'at most 50',
    });
  });

  it('leaves messages about no field alone', () => {
    expect(
      fieldErrorsOf([
        { message: 'Trusted issuer not found' },
        { message: 'Forbidden resource: only ADMIN' },
        { message: 'Sign-in failed: x' },
      ]),
    ).toEqual({});
  });

  it('puts the form’s own fields next to them, and the rest above the buttons', () => {
    const err = new ApiError('name: taken; opaque: another issuer', 'CONFLICT', false, {
      name: 'taken',
      opaque: 'another issuer',
    });
    expect(formErrors(err, ['name'])).toEqual({
      fields: { name: 'taken' },
      form: 'opaque: another issuer',
    });
    expect(formErrors(err, ['name', 'opaque'])).toEqual({
      fields: { name: 'taken', opaque: 'another issuer' },
      form: undefined,
    });
    expect(formErrors(new ApiError('Nope', 'FORBIDDEN', false), ['name'])).toEqual({
      fields: {},
      form: 'Nope',
    });
    // Anything else (a bug) never shows its text.
    expect(formErrors(new Error('internal detail'), ['name'])).toEqual({
      fields: {},
      form: 'Something went wrong. Please retry.',
    });
  });
});
