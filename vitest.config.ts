import { defineConfig } from 'vitest/config';

// Unit tests: pure TypeScript next to the code (app/, main/) under Node, and the
// renderer's component tests under jsdom. Cross-process suites live in
// vitest.integration.config.ts and are run by scripts/test.mjs.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['app/**/*.test.ts', 'main/**/*.test.ts', 'scripts/**/*.test.ts', 'test/corpus/**/*.test.ts'],
        },
      },
      {
        esbuild: { jsx: 'automatic' },
        test: {
          name: 'renderer',
          environment: 'jsdom',
          globals: true,
          include: ['renderer/src/**/*.test.tsx', 'renderer/src/**/*.test.ts'],
          setupFiles: ['renderer/src/test-setup.ts'],
        },
      },
    ],
  },
});
