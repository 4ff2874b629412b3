import { useTitle } from '../router';

/** Projects: not built yet (placeholder of the console skeleton). */
export function ProjectsPage(_props: { subPath: string }) {
  useTitle('Projects');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Projects</h1>
      <p className="state state-empty">This page is coming soon.</p>
    </section>
  );
}
