import { useTitle } from '../router';

/** My account: not built yet (placeholder of the console skeleton). */
export function MyAccountPage(_props: { subPath: string }) {
  useTitle('My account');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">My account</h1>
      <p className="state state-empty">This page is coming soon.</p>
    </section>
  );
}
