import { useTitle } from '../router';

/** Clients: not built yet (placeholder of the console skeleton). */
export function ClientsPage(_props: { subPath: string }) {
  useTitle('Clients');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Clients</h1>
      <p className="state state-empty">This page is coming soon.</p>
    </section>
  );
}
