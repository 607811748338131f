// The web app: React, built by Vite into dist/web, which the server serves at /.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
  },
  server: {
    // `npx vite web` during development talks to `npm start` on port 3000.
    proxy: { '/api': 'http://localhost:3000' },
  },
});
