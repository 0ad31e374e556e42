import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Two pages (operator console, merchant console) sharing one set of components. The gateway serves
// the output from dist/web (src/console/http/static.ts); assets are content-hashed under /ui/assets/.
export default defineConfig({
  root: import.meta.dirname,
  base: '/ui/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: resolve(import.meta.dirname, '../dist/web'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
    rollupOptions: {
      input: { console: resolve(import.meta.dirname, 'console/index.html'), merchant: resolve(import.meta.dirname, 'merchant/index.html') },
    },
  },
});
