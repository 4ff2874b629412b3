import { useId, type InputHTMLAttributes, type ReactNode } from 'react';

type FieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> & {
  label: string;
  /** The message for this field, from the form's own check or from the API (`field: message`). */
  error?: string;
  hint?: ReactNode;
};

/** A labelled input with its hint and error tied to it (aria-describedby, aria-invalid). */
export function Field({ label, error, hint, className, ...input }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ');
  return (
    <div className={`field${error ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...input}
      />
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}

/** The error of a form as a whole (one not about a single field). */
export function FormError({ message }: { message?: string }) {
  if (!message) return null;
  return (
    <p className="form-error" role="alert">
      {message}
    </p>
  );
}

/** A labelled checkbox, its error tied to it. */
export function Check({
  label,
  error,
  className,
  ...input
}: Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'type'> & { label: string; error?: string }) {
  const id = useId();
  return (
    <div
      className={`field field-check${error ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}
    >
      <input
        type="checkbox"
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        {...input}
      />
      <label htmlFor={id}>{label}</label>
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** The form's submit button (its label while the request runs) and any other buttons beside it. */
export function SubmitRow({
  busy,
  label,
  busyLabel,
  primary = true,
  disabled,
  children,
}: {
  busy: boolean;
  label: string;
  busyLabel: string;
  primary?: boolean;
  disabled?: boolean;
  children?: ReactNode;
}) {
  return (
    <div className="actions">
      <button type="submit" className={primary ? 'primary' : undefined} disabled={busy || disabled}>
        {busy ? busyLabel : label}
      </button>
      {children}
    </div>
  );
}

/** A short confirmation that something happened (announced by screen readers). */
export function Notice({ children }: { children: ReactNode }) {
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}
