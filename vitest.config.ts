import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    setupFiles: ["test/helpers/worker-env.ts"],
    // Each file has its own database and queue prefix, so files run in parallel; 2 cores here.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 90_000,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? "error" },
  },
});
