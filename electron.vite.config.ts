import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

/**
 * Three builds: main (ESM, dependencies stay external), preload (one CommonJS bundle —
 * sandboxed preloads cannot load ES modules or other files), renderer (React).
 */
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // the simulator is bundled beside main: the packaged app runs it as a utility process
      rollupOptions: { input: { index: resolve('src/main/index.ts'), simulator: resolve('agent-sim/offline.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    plugins: [react()],
    build: {
      outDir: 'out/renderer',
      minify: process.env.TETHER_NO_MINIFY ? false : true,
      // one bundle for a desktop app loaded from disk; splitting buys nothing here
      chunkSizeWarningLimit: 2000,
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
  },
});
