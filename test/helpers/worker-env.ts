// Runs before each test file (vitest's setupFiles): the services the global setup found, as the helpers
// read them (test/helpers/test-services.ts).
import { inject } from "vitest";

process.env.TEST_DATABASE_SERVER = inject("databaseServer");
process.env.TEST_QUEUE_BACKEND = inject("queueBackend");
process.env.TEST_REDIS_MISSING = inject("redisMissing");
