/** The one stylesheet of the server-rendered pages (served from `/assets/bridgekeeper.css`). */
export const STYLESHEET = `:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6475;--bg:#f3f5f9;--card:#fff;--accent:#2b59c3;--danger:#b42318;--border:#d5dae3}
@media (prefers-color-scheme:dark){:root{--fg:#e7eaf0;--muted:#a4acbb;--bg:#12151c;--card:#1b2029;--accent:#7aa2ff;--danger:#ff8a80;--border:#323946}}
*{box-sizing:border-box}
html{font-size:100%}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;background:var(--bg);color:var(--fg);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;padding:1rem}
.card{width:100%;max-width:26rem;margin-top:8vh;background:var(--card);border:1px solid var(--border);border-radius:.75rem;padding:1.5rem}
.product{margin:0 0 .25rem;font-weight:700;letter-spacing:.04em;color:var(--accent);text-transform:uppercase;font-size:.8rem}
h1{margin:0 0 1rem;font-size:1.4rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=text],input[type=password],input[type=email]{width:100%;padding:.6rem .7rem;font-size:1rem;border:1px solid var(--border);border-radius:.4rem;background:transparent;color:inherit}
input:focus,button:focus{outline:2px solid var(--accent);outline-offset:2px}
button{margin-top:1.25rem;width:100%;padding:.7rem;font-size:1rem;font-weight:600;border:0;border-radius:.4rem;background:var(--accent);color:#fff;cursor:pointer}
.hint{color:var(--muted);font-size:.9rem}
.error{color:var(--danger);font-weight:600}
a{color:var(--accent)}
a.button{display:block;text-align:center;padding:.65rem;font-weight:600;border:1px solid var(--accent);border-radius:.4rem;text-decoration:none}
a.button:focus{outline:2px solid var(--accent);outline-offset:2px}
button.secondary{background:transparent;color:var(--accent);border:1px solid var(--accent)}
.code{font:700 1.4rem/1.2 ui-monospace,monospace;letter-spacing:.1em}
ul.scopes{padding-left:1.2rem}
`;

/** The product icon: a bridge arch over a gate, in the accent colour. */
export const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2b59c3"/><path d="M5 22c3-8 19-8 22 0" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round"/><path d="M9 22v5M16 18v9M23 22v5" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>';
