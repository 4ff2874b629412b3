import { useTitle } from '../router';

/** Single sign-on: not built yet (placeholder of the console skeleton). */
export function SsoPage(_props: { subPath: string }) {
  useTitle('Single sign-on');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Single sign-on</h1>
      <p className="state state-empty">This page is coming soon.</p>
    </section>
  );
}
