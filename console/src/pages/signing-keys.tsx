import { useTitle } from '../router';

/** Signing keys: not built yet (placeholder of the console skeleton). */
export function SigningKeysPage(_props: { subPath: string }) {
  useTitle('Signing keys');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Signing keys</h1>
      <p className="state state-empty">This page is coming soon.</p>
    </section>
  );
}
