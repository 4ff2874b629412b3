import { useEffect, useRef, useState, type ReactNode } from 'react';

export interface ConfirmProps {
  /** The question, naming the target: "Revoke every session of alice@example.com?" */
  title: string;
  children?: ReactNode;
  /** The button that does it: "Revoke sessions". */
  confirmLabel: string;
  /** Destructive actions get the red button. */
  destructive?: boolean;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
}

/**
 * A modal confirmation (the native <dialog>: focus stays inside, Escape cancels, focus returns to the
 * button that opened it). Cancel has the focus first, so Enter never destroys by accident.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  destructive,
  onConfirm,
  onClose,
}: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      onClose();
    }
  };
  return (
    <dialog
      ref={ref}
      className="confirm"
      aria-labelledby="confirm-title"
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onClose();
      }}
    >
      <h2 id="confirm-title">{title}</h2>
      {children && <div className="confirm-body">{children}</div>}
      <div className="actions">
        <button type="button" autoFocus onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button
          type="button"
          className={destructive ? 'danger' : 'primary'}
          onClick={() => void confirm()}
          disabled={busy}
        >
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
