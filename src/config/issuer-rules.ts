import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  type Mode,
  type Provisioning,
  type TrustedIssuerConfig,
} from 'src/config/config.types';

/**
 * The rules a trusted issuer must satisfy, whether it comes from configuration (`config.loader.ts`) or from
 * the admin API (`IssuersService`): one pure function, so the two can never disagree (SECURITY.md rules 1,
 * 2 and 8). Messages never contain a URL or any other value an admin typed, except the issuer name and
 * rejected algorithm names.
 */

export const ISSUER_NAME = /^[a-z0-9]+$/;
/** The issuer name of Bridgekeeper's own tokens (a client's `exchangeIssuers` may name it: delegation). */
export const OWN_TOKENS_ISSUER_NAME = 'bridgekeeper';
/** Names nobody may give an issuer: `bridgekeeper` is Bridgekeeper's own tokens. */
export const RESERVED_ISSUER_NAMES: readonly string[] = [OWN_TOKENS_ISSUER_NAME];
export const CLOCK_TOLERANCE_SECONDS = { min: 0, max: 600, default: 60 } as const;
export const MAX_TOKEN_AGE_SECONDS = { min: 1, max: 31536000 } as const;
export const DEFAULT_ALGORITHMS: readonly AsymmetricAlgorithm[] = ['RS256'];
export const PROVISIONING_MODES: readonly Provisioning[] = ['jit', 'existing'];

export type IssuerField =
  | 'name'
  | 'issuer'
  | 'jwksUrl'
  | 'userinfoUrl'
  | 'opaque'
  | 'audiences'
  | 'audiencesRequired'
  | 'algorithms'
  | 'clockToleranceSeconds'
  | 'maxTokenAgeSeconds'
  | 'provisioning'
  | 'fhirBase'
  | 'userinfoCredentials'
  | 'emailMatching';

/** An issuer as typed by someone: absent values take their defaults. URLs are unparsed strings. */
export interface IssuerDraft {
  name: string;
  issuer?: string;
  jwksUrl?: string;
  userinfoUrl?: string;
  opaque?: boolean;
  audiences?: string[];
  /** Default: true when a JWKS URL is given (userinfo answers carry no audience). */
  audiencesRequired?: boolean;
  algorithms?: string[];
  clockToleranceSeconds?: number;
  maxTokenAgeSeconds?: number;
  provisioning?: string;
  fhirBase?: string;
  userinfoCredentials?: boolean;
  emailMatching?: boolean;
}

export interface IssuerProblem {
  field: IssuerField;
  message: string;
}

export interface IssuerRuleOptions {
  mode: Mode;
  /** How a field is named inside messages: a configuration key, or an API field name. */
  fieldName: (field: IssuerField) => string;
  /** Bridgekeeper's own `iss` (its public URL): no trusted issuer may claim it. */
  ownIssuer?: string;
}

export type CheckedIssuer = Omit<TrustedIssuerConfig, 'source' | 'revision'>;

/** Why a name cannot be an issuer name, or undefined when it can. */
export function issuerNameProblem(name: string): string | undefined {
  if (!ISSUER_NAME.test(name)) {
    return `issuer name "${name}" must be lower-case letters and digits only`;
  }
  if (RESERVED_ISSUER_NAMES.includes(name)) {
    return `issuer name "${name}" is reserved for Bridgekeeper's own tokens`;
  }
  return undefined;
}

/** Applies every per-issuer rule; `issuer` is set only when there is no problem. */
export function checkIssuer(
  draft: IssuerDraft,
  options: IssuerRuleOptions,
): { issuer?: CheckedIssuer; problems: IssuerProblem[] } {
  const problems: IssuerProblem[] = [];
  const fail = (field: IssuerField, message: string) => problems.push({ field, message });
  const { name } = draft;

  const nameProblem = issuerNameProblem(name);
  if (nameProblem) fail('name', nameProblem);

  const issuer = draft.issuer ?? '';
  if (issuer.trim() === '') fail('issuer', 'is required');
  else if (issuer !== issuer.trim()) fail('issuer', 'must not start or end with white space');
  else if (options.ownIssuer !== undefined && issuer === options.ownIssuer) {
    fail('issuer', "is Bridgekeeper's own issuer; it cannot be trusted as an external issuer");
  }

  const jwksUrl = checkUrl(draft.jwksUrl, 'jwksUrl', fail);
  const userinfoUrl = checkUrl(draft.userinfoUrl, 'userinfoUrl', fail);
  if (draft.jwksUrl === undefined && draft.userinfoUrl === undefined) {
    fail(
      'jwksUrl',
      `issuer "${name}" needs a JWKS URL, a userinfo URL (${options.fieldName('userinfoUrl')}), or both`,
    );
  }
  for (const [field, url] of [
    ['jwksUrl', jwksUrl],
    ['userinfoUrl', userinfoUrl],
  ] as const) {
    if (url && options.mode === 'production' && url.protocol === 'http:' && !isLoopback(url)) {
      fail(field, 'must use https in production mode');
    }
  }

  const opaque = draft.opaque ?? false;
  if (opaque && !userinfoUrl) {
    fail('opaque', 'opaque tokens can only be checked through a userinfo URL');
  }

  const audiences = (draft.audiences ?? []).map((a) => a.trim()).filter((a) => a.length > 0);
  const audiencesRequired = draft.audiencesRequired ?? draft.jwksUrl !== undefined;
  if (audiencesRequired && audiences.length === 0) {
    fail(
      'audiences',
      `issuer "${name}" has no audiences; list the accepted audiences, or set ${options.fieldName('audiencesRequired')}=false to accept tokens issued for any client`,
    );
  }

  const algorithms = draft.algorithms ?? [...DEFAULT_ALGORITHMS];
  const badAlgs = algorithms.filter(
    (a) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a),
  );
  if (badAlgs.length > 0) {
    fail(
      'algorithms',
      `${badAlgs.join(', ')} not allowed; use asymmetric algorithms only (${ASYMMETRIC_ALGORITHMS.join(', ')})`,
    );
  }
  if (algorithms.length === 0) fail('algorithms', 'must list at least one algorithm');

  const clockToleranceSeconds = checkInt(
    draft.clockToleranceSeconds,
    'clockToleranceSeconds',
    CLOCK_TOLERANCE_SECONDS,
    fail,
  );
  const maxTokenAgeSeconds = checkInt(
    draft.maxTokenAgeSeconds,
    'maxTokenAgeSeconds',
    MAX_TOKEN_AGE_SECONDS,
    fail,
  );

  const provisioning = draft.provisioning ?? 'jit';
  if (!(PROVISIONING_MODES as readonly string[]).includes(provisioning)) {
    fail('provisioning', `must be one of ${PROVISIONING_MODES.join(', ')}`);
  }
  const fhirBase = checkUrl(draft.fhirBase, 'fhirBase', fail);

  if (problems.length > 0) return { problems };
  return {
    problems,
    issuer: {
      name,
      issuer,
      ...(draft.jwksUrl !== undefined ? { jwksUrl: draft.jwksUrl } : {}),
      ...(draft.userinfoUrl !== undefined ? { userinfoUrl: draft.userinfoUrl } : {}),
      opaque,
      audiences,
      audiencesRequired,
      algorithms: algorithms as AsymmetricAlgorithm[],
      clockToleranceSeconds: clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS.default,
      ...(maxTokenAgeSeconds !== undefined ? { maxTokenAgeSeconds } : {}),
      provisioning: provisioning as Provisioning,
      ...(fhirBase !== undefined ? { fhirBase: draft.fhirBase!.replace(/\/+$/, '') } : {}),
      userinfoCredentials: draft.userinfoCredentials ?? false,
      emailMatching: draft.emailMatching ?? false,
    },
  };
}

/** What makes two issuers unable to coexist. */
export type IssuerConflict =
  | { kind: 'name'; other: string }
  | { kind: 'iss'; other: string }
  | { kind: 'opaque'; other: string };

type ConflictFields = Pick<TrustedIssuerConfig, 'name' | 'issuer' | 'opaque'>;

/**
 * The rules across issuers: names are unique, an exact `iss` belongs to one issuer (rule 1: one key set
 * per issuer), and at most one issuer accepts opaque tokens (an opaque token names no issuer, so it must
 * only ever be sent to one IdP, rule 7).
 */
export function issuerConflicts(
  candidate: ConflictFields,
  others: readonly ConflictFields[],
): IssuerConflict[] {
  const out: IssuerConflict[] = [];
  for (const o of others) {
    if (o.name === candidate.name) out.push({ kind: 'name', other: o.name });
    if (o.issuer === candidate.issuer) out.push({ kind: 'iss', other: o.name });
    if (o.opaque && candidate.opaque) out.push({ kind: 'opaque', other: o.name });
  }
  return out;
}

function checkUrl(
  value: string | undefined,
  field: IssuerField,
  fail: (field: IssuerField, message: string) => void,
): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(field, 'must be an absolute URL');
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    fail(field, 'must use https or http');
    return undefined;
  }
  return url;
}

function checkInt(
  value: number | undefined,
  field: IssuerField,
  range: { min: number; max: number },
  fail: (field: IssuerField, message: string) => void,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value)) {
    fail(field, `must be an integer between ${range.min} and ${range.max}`);
    return undefined;
  }
  if (value < range.min || value > range.max) {
    fail(field, `must be between ${range.min} and ${range.max}`);
    return undefined;
  }
  return value;
}

/** `localhost`, `127.0.0.0/8` or `[::1]`: plain http stays allowed there in production mode. */
export function isLoopback(url: URL): boolean {
  const h = url.hostname;
  return h === 'localhost' || h === '[::1]' || /^127\./.test(h);
}
