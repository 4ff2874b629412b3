import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError, formErrors, type FormErrors } from '../api/client';

/**
 * Small pieces shared by the Projects, Clients, Signing keys and Single sign-on pages: the API's field
 * errors (also class-validator's "email must be an email"), text areas, selects, copy buttons and the
 * one-time secret box.
 */

/** Like formErrors, and a message that starts with a known field's name ("email must be …") goes there. */
export function fieldErrors(err: unknown, known: readonly string[]): FormErrors {
  const split = formErrors(err, known);
  if (Object.keys(split.fields).length > 0 || !(err instanceof ApiError)) return split;
  const fields: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of err.message.split(/(?:; |, )(?=[a-z][A-Za-z]* )/)) {
    const m = /^(?:input\.)?([a-z][A-Za-z]*)(?:\[\d+\])?[ :]/.exec(part);
    if (m && known.includes(m[1])) fields[m[1]] ??= part;
    else rest.push(part);
  }
  if (Object.keys(fields).length === 0) return split;
  return { fields, form: rest.length > 0 ? rest.join('; ') : undefined };
}

/** Splits a text box into a list: commas, spaces or new lines; duplicates dropped. */
export function listOf(value: string): string[] {
  return [
    ...new Set(
      value
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

/** One URL per line (URLs may hold commas). */
export function linesOf(value: string): string[] {
  return [
    ...new Set(
      value
        .split(/\r?\n/)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The hint and the error under a control, with the ids its aria-describedby names. */
function Help({ id, hint, error }: { id: string; hint?: ReactNode; error?: string }) {
  return (
    <>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </>
  );
}

function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  return (
    [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined
  );
}

/** A labelled text area (lists, one per line) with hint and error. */
export function TextArea({
  label,
  name,
  defaultValue,
  hint,
  error,
  rows = 3,
}: {
  label: string;
  name: string;
  defaultValue?: string;
  hint?: ReactNode;
  error?: string;
  rows?: number;
}) {
  const id = useId();
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        name={name}
        rows={rows}
        defaultValue={defaultValue}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
      />
      <Help id={id} hint={hint} error={error} />
    </div>
  );
}

/** A labelled select with its error. */
export function Select({
  label,
  name,
  defaultValue,
  options,
  error,
  hint,
  onChange,
}: {
  label: string;
  name: string;
  defaultValue?: string;
  options: { value: string; label: string }[];
  error?: string;
  hint?: string;
  onChange?: (value: string) => void;
}) {
  const id = useId();
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        name={name}
        defaultValue={defaultValue}
        onChange={onChange ? (e) => onChange(e.currentTarget.value) : undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <Help id={id} hint={hint} error={error} />
    </div>
  );
}

/** Copies `text` to the clipboard; says so (or to select it by hand when the browser refuses). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <>
      <button type="button" onClick={() => void copy()} aria-label={label}>
        {state === 'copied' ? 'Copied' : 'Copy'}
      </button>
      <span className="small" role="status" aria-live="polite">
        {state === 'failed' ? 'The browser refused: select the text and copy it.' : ''}
      </span>
    </>
  );
}

/** A value to copy (callback URLs, client ids): the text, and a copy button naming it. */
export function CopyValue({ label, value }: { label: string; value: string }) {
  return (
    <div className="copy-value">
      <span className="copy-label">{label}</span>
      <code className="mono">{value}</code>
      <span className="copy-actions">
        <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
      </span>
    </div>
  );
}

/**
 * A secret shown once: a warning, the value with a copy button, and "Done" which removes it from the
 * page (it is also gone when the page is left: nothing else keeps it).
 */
export function SecretOnce({
  title,
  secret,
  onDone,
  label = 'Client secret',
  warning = 'Copy it now and store it in your secret manager: it is shown only this once. Bridgekeeper keeps only its hash and can never show it again.',
}: {
  title: string;
  secret: string;
  onDone: () => void;
  /** What the secret is, as the value's label ("Client secret"). */
  label?: string;
  warning?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div
      className="secret-once"
      role="region"
      aria-labelledby="secret-title"
      tabIndex={-1}
      ref={ref}
    >
      <h2 id="secret-title">{title}</h2>
      <p className="secret-warning">{warning}</p>
      <div className="copy-value">
        <span className="copy-label">{label}</span>
        <code className="mono" data-testid="one-time-secret">
          {secret}
        </code>
        <span className="copy-actions">
          <CopyButton text={secret} label={`Copy the ${label.toLowerCase()}`} />
        </span>
      </div>
      <div className="actions">
        <button type="button" className="primary" onClick={onDone}>
          I stored it: hide the {label.toLowerCase()}
        </button>
      </div>
    </div>
  );
}
