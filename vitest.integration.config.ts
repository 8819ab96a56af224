import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { AWS_ACS_PORT_FILES } from './test/support/aws-port-files';
import { ownNetnsPool } from './test/support/own-netns-pool';

// Cross-process suites (test/integration, test/e2e). They share the 2 CPU cores, so files run one
// at a time.
const suiteGlob = process.env.CAUSEWAY_SUITE_GLOB ?? 'test/**/*.test.ts';

// The files in AWS_ACS_PORT_FILES run in a network namespace of their own, never the host's; the
// own-netns project excludes every other file, so it runs those of them that match the glob.
const hostFiles = readdirSync('test', { recursive: true, encoding: 'utf8' })
  .map((file) => `test/${file}`)
  .filter((file) => file.endsWith('.test.ts') && !AWS_ACS_PORT_FILES.includes(file));

export default defineConfig({
  test: {
    environment: 'node',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    projects: [
      { extends: true, test: { name: 'host', include: [suiteGlob], exclude: AWS_ACS_PORT_FILES } },
      {
        extends: true,
        test: {
          name: 'own-netns',
          include: [suiteGlob],
          exclude: hostFiles,
          pool: ownNetnsPool,
          globalSetup: ['test/support/aws-port-setup.ts'],
        },
      },
    ],
  },
});
