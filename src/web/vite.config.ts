/**
 * Builds the web UI (src/web) into dist/web, which Postern serves under /ui
 * (src/http/plugins/web-ui.ts). Run from the repository root (`npm run build:web`). Preact's JSX
 * goes through Vite's built-in transform, so no framework plugin is needed.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/web',
  base: '/ui/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../../dist/web',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    // `npx vite --config src/web/vite.config.ts` during development, next to `npm start`.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
