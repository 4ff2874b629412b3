import {
  envNameOf,
  GLOBAL_SETTINGS,
  ISSUER_PREFIX,
  ISSUER_SETTINGS,
  PREFIX,
} from 'src/config/config.definition';

/**
 * The problem line for a key (file) or variable (env) that names no setting: "unknown setting", and the
 * nearest known setting when one is close ("did you mean `…jwks`?"). Per-issuer keys are compared with
 * the per-issuer settings of that issuer; a per-issuer key of an issuer that is not listed says so.
 */
export function unknownSettingProblem(
  given: string,
  source: 'key' | 'env',
  issuerNames: readonly string[],
): string {
  const label = source === 'env' ? `env ${given}` : given;
  const show = (key: string) => (source === 'env' ? envNameOf(key) : key);
  // One spelling for both sources: lower case, `_` and `-` as dots.
  const norm = given.toLowerCase().replace(/[_-]/g, '.');
  const issuerPrefix = ISSUER_PREFIX.replace(/[_-]/g, '.');

  if (norm.startsWith(issuerPrefix)) {
    const rest = norm.slice(issuerPrefix.length);
    const dot = rest.indexOf('.');
    const name = dot < 0 ? rest : rest.slice(0, dot);
    const suffix = dot < 0 ? '' : rest.slice(dot + 1);
    if (issuerNames.includes(name)) {
      const best = nearest(
        suffix,
        ISSUER_SETTINGS.map((s) => s.name),
      );
      return best
        ? `${label}: unknown setting; did you mean \`${show(`${ISSUER_PREFIX}${name}.${best}`)}\`?`
        : `${label}: unknown setting for issuer "${name}"; its settings are ${ISSUER_SETTINGS.map((s) => s.name).join(', ')}`;
    }
    const close = nearest(name, issuerNames);
    if (close) {
      return `${label}: unknown setting; issuer "${name}" is not listed, did you mean \`${show(`${ISSUER_PREFIX}${close}${suffix ? '.' + suffix : ''}`)}\`?`;
    }
    return issuerNames.length
      ? `${label}: unknown setting; per-issuer keys need the issuer listed in bridgekeeper.auth.jwt.trusted.issuers (now: ${issuerNames.join(', ')})`
      : `${label}: unknown setting; list the issuer in bridgekeeper.auth.jwt.trusted.issuers first`;
  }

  // `bridgekeeper.issuer.idp.jwks` and the like: a listed issuer's setting under the wrong prefix.
  const misplaced = /(?:^|\.)issuers?\.([a-z0-9]+)\.(.+)$/.exec(norm.slice(PREFIX.length));
  if (misplaced && issuerNames.includes(misplaced[1])) {
    const best = nearest(
      misplaced[2],
      ISSUER_SETTINGS.map((s) => s.name),
    );
    if (best)
      return `${label}: unknown setting; did you mean \`${show(`${ISSUER_PREFIX}${misplaced[1]}.${best}`)}\`?`;
  }

  const best = norm.startsWith(PREFIX)
    ? nearest(
        norm.slice(PREFIX.length),
        GLOBAL_SETTINGS.map((s) => s.name),
      )
    : undefined;
  return best
    ? `${label}: unknown setting; did you mean \`${show(PREFIX + best)}\`?`
    : `${label}: unknown setting`;
}

/**
 * The candidate nearest to `typo` by Damerau-Levenshtein distance (dots ignored, so `publicurl` is
 * `public.url`), when it is near enough: at most a third of its length, at least 2. A typo that starts
 * with a whole candidate (`jwks.url` → `jwks`) counts as near.
 */
export function nearest(typo: string, candidates: readonly string[]): string | undefined {
  const t = typo.replace(/\./g, '');
  if (!t) return undefined;
  let best: { name: string; score: number } | undefined;
  for (const name of candidates) {
    const c = name.replace(/\./g, '');
    let score = distance(t, c);
    if (c.length >= 3 && (t.startsWith(c) || c.startsWith(t)) && t.length >= 3)
      score = Math.min(score, 1.5);
    if (score <= Math.max(2, Math.floor(c.length / 3)) && (!best || score < best.score)) {
      best = { name, score };
    }
  }
  return best?.name;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}
