import { useEffect, useRef, useState } from 'react';
import { onAvailability, retryAll } from './api/client';
import { Viewer } from './api/generated';
import { signOut } from './auth';
import { ErrorState, Loading } from './components/states';
import { homeOf, mayOpen, pageFor, PAGES } from './pages';
import { Link, navigate, useLocation, useTitle } from './router';
import { useQuery } from './components/use-query';
import { displayName, ViewerContext, type ViewerInfo } from './viewer';

/**
 * The console around every page: header (who is signed in, sign out), the navigation this person's
 * role allows, the read-only banner while the API answers 503, and the page for the address.
 */
export function Shell() {
  const viewer = useQuery(Viewer);
  if (!viewer.data) {
    return (
      <main id="main" className="boot">
        {viewer.error ? (
          <ErrorState error={viewer.error} retry={viewer.reload} />
        ) : (
          <Loading what="the console" />
        )}
      </main>
    );
  }
  return (
    <ViewerContext.Provider value={viewer.data.viewer}>
      <Layout viewer={viewer.data.viewer} />
    </ViewerContext.Provider>
  );
}

function Layout({ viewer }: { viewer: ViewerInfo }) {
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const found = pageFor(path);
  const home = homeOf(viewer);
  useEffect(() => {
    if (path === '/') navigate(home.path, true);
  }, [path, home]);
  // After a navigation inside the console, the focus moves to the new page (not on the first load).
  const first = useRef(true);
  useEffect(() => {
    setMenuOpen(false);
    if (first.current) first.current = false;
    else document.getElementById('main')?.focus();
  }, [path]);
  const allowed = PAGES.filter((p) => mayOpen(viewer, p));
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Bridgekeeper <span>console</span>
        </Link>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <div className="who">
          <span className="who-name" title={`${viewer.actor.issuer}:${viewer.actor.subject}`}>
            {displayName(viewer.actor)}
            {viewer.isServerAdmin && <span className="badge">ADMIN</span>}
          </span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <div className="frame">
        <nav id="nav" aria-label="Console" className={menuOpen ? 'open' : undefined}>
          <ul>
            {allowed.map((p) => {
              const current = found?.page === p;
              return (
                <li key={p.path}>
                  <Link to={p.path} aria-current={current ? 'page' : undefined}>
                    {p.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <ReadOnlyBanner />
          {path === '/' ? (
            <Loading what={home.label} />
          ) : found && mayOpen(viewer, found.page) ? (
            <found.page.component key={found.page.path} subPath={found.subPath} />
          ) : found ? (
            <NotAllowed />
          ) : (
            <NotFound />
          )}
        </main>
      </div>
    </>
  );
}

/** Shown while the API answers 503: what is on screen stays, changes wait, one button retries. */
function ReadOnlyBanner() {
  const [down, setDown] = useState(false);
  useEffect(() => onAvailability(setDown), []);
  if (!down) return null;
  return (
    <div className="banner banner-readonly" role="alert">
      <p>
        <strong>Read-only:</strong> the server is temporarily unavailable. What is shown may be out
        of date and changes are paused.
      </p>
      <button type="button" onClick={retryAll}>
        Retry
      </button>
    </div>
  );
}

function NotAllowed() {
  useTitle('Not allowed');
  return (
    <section>
      <h1>Not allowed</h1>
      <p>Your account cannot open this page. Ask a server administrator if you need it.</p>
      <p>
        <Link to="/">Back to the console</Link>
      </p>
    </section>
  );
}

function NotFound() {
  useTitle('Not found');
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the console</Link>
      </p>
    </section>
  );
}
