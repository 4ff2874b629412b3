import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The admin console (issue 10): served by the Nest app at /console from console/dist. React's JSX is
// transformed by Vite 8's own oxc (no plugin). No inline scripts or styles: the CSP forbids them.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Keep every asset a file: a data: URI or inlined module would need a CSP exception.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
