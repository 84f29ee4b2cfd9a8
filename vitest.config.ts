import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers; two cores do not like many at once.
    maxWorkers: 2,
    // The AWS SDK warns once per process that its releases after January 2027 need Node 22; the
    // tests drive it on Node 20 on purpose (our floor), so the notice is noise in every run. The
    // variable is inherited by the child processes the tests start.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
