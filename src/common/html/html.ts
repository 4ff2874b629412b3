/**
 * Escaped HTML by construction: `html` tagged templates escape every interpolated value unless it is
 * itself `SafeHtml` (another `html` fragment). Pages are built only from these.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

type Interpolation =
  SafeHtml | string | number | undefined | null | false | readonly Interpolation[];

function render(v: Interpolation): string {
  if (v === undefined || v === null || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return (v as readonly Interpolation[]).map(render).join('');
  return escapeHtml(String(v as string | number));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}
