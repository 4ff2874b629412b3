import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { completeSignIn, justSignedOut, signIn, SignInError } from './auth';
import { Shell } from './shell';
import './styles.css';

/**
 * Boot: on /console/callback redeem the code; after a sign-out show the signed-out page; otherwise
 * sign in (straight back when the browser session is alive), then show the shell.
 */
async function boot(): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  if (location.pathname === '/console/callback') {
    try {
      const returnTo = await completeSignIn();
      history.replaceState(null, '', returnTo);
    } catch (err) {
      const message =
        err instanceof SignInError ? err.message : 'Sign-in failed. Please sign in again.';
      root.render(<Message title="Sign-in failed" text={message} />);
      return;
    }
  } else if (justSignedOut()) {
    root.render(<Message title="You are signed out" text="You signed out of the console." />);
    return;
  } else {
    await signIn();
    return;
  }
  root.render(
    <StrictMode>
      <Shell />
    </StrictMode>,
  );
}

function Message({ title, text }: { title: string; text: string }) {
  return (
    <main id="main" className="boot">
      <h1>{title}</h1>
      <p>{text}</p>
      <button type="button" className="primary" onClick={() => void signIn('/console/')}>
        Sign in
      </button>
    </main>
  );
}

void boot();
