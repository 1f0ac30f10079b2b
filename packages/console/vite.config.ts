import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by the Keyward server under a strict CSP (script-src 'self'): everything is
// bundled, nothing inline. `npm run dev` proxies the API to a server on :4000.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:4000' } },
});
