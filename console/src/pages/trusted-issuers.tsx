import { useTitle } from '../router';

/** Trusted issuers: not built yet (placeholder of the console skeleton). */
export function TrustedIssuersPage(_props: { subPath: string }) {
  useTitle('Trusted issuers');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Trusted issuers</h1>
      <p className="state state-empty">This page is coming soon.</p>
    </section>
  );
}
