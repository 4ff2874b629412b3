/**
 * One error type for every failure of the console's API calls (api/client.ts), so pages show them one
 * way: `unavailable` (the API answered 503: the shell shows
 * its read-only banner), `fields` (messages about one input field, from the API's `field: message`
 * errors), `message` for the rest.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly unavailable: boolean,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface GraphqlError {
  message: string;
  extensions?: { code?: string; errorCode?: string };
}

/** `field: message` → { field: message } (`input.` dropped: `input.name` is the form's `name`). */
export function fieldErrorsOf(errors: GraphqlError[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const e of errors) {
    // Several problems come joined: "name: …; jwksUrl: …".
    for (const part of e.message.split(/; (?=[A-Za-z][A-Za-z0-9_.[\]]*: )/)) {
      const m = /^([A-Za-z][A-Za-z0-9_.[\]]*): (.+)$/s.exec(part);
      if (m) fields[m[1].replace(/^input\./, '')] ??= m[2];
    }
  }
  return fields;
}

export interface FormErrors {
  /** Messages shown next to the form's own fields. */
  fields: Record<string, string>;
  /** Everything else, shown above the form's buttons. */
  form?: string;
}

/** Splits an error for a form: the API's messages about `known` fields go next to them. */
export function formErrors(err: unknown, known: readonly string[]): FormErrors {
  if (!(err instanceof ApiError))
    return { fields: {}, form: 'Something went wrong. Please retry.' };
  const fields: Record<string, string> = {};
  for (const [name, message] of Object.entries(err.fields)) {
    if (known.includes(name)) fields[name] = message;
  }
  if (Object.keys(fields).length === 0) return { fields, form: err.message };
  const rest = Object.entries(err.fields)
    .filter(([name]) => !known.includes(name))
    .map(([name, message]) => `${name}: ${message}`);
  return { fields, form: rest.length > 0 ? rest.join(' ') : undefined };
}
