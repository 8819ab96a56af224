import { defineConfig } from 'vitest/config';

// Cross-process suites (test/integration, test/e2e). They share network namespaces,
// fixed ports and the 2 CPU cores, so files run one at a time.
export default defineConfig({
  test: {
    environment: 'node',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    include: [process.env.CAUSEWAY_SUITE_GLOB ?? 'test/**/*.test.ts'],
  },
});
