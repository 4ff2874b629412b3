import { html, type SafeHtml } from 'src/common/html/html';

/** The new-password fields of the setup and set-password forms. */
export function newPasswordFields(minLength: number): SafeHtml {
  return html`<label for="password">New password</label>
    <input
      id="password"
      name="password"
      type="password"
      autocomplete="new-password"
      minlength="${minLength}"
      required
    />
    <p class="hint">At least ${minLength} characters; common passwords are refused.</p>
    <label for="confirm">Repeat the password</label>
    <input id="confirm" name="confirm" type="password" autocomplete="new-password" required />`;
}

/** Why the two password fields cannot be used as they are, or null. */
export function confirmProblem(f: Record<string, string>): string | null {
  if (!f.password) return 'Choose a password.';
  if (f.password !== f.confirm) return 'The two passwords are not the same.';
  return null;
}
