import { defineConfig } from 'vitest/config';

// forks, never vm pools: onnxruntime-node rejects typed arrays from another realm (stack-notes §1.6)
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ['test/types/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
