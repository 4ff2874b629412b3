import { useTitle } from '../router';

/** Actors: not built yet (placeholder of the console skeleton). */
export function ActorsPage(_props: { subPath: string }) {
  useTitle('Actors');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Actors</h1>
      <p className="state state-empty">This page is coming soon.</p>
    </section>
  );
}
