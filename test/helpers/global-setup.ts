import type { TestProject } from "vitest/node";
import { migrate } from "../../functions/ops/migrate.ts";
import { testServices } from "./test-services.ts";

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
    databaseServer: string;
    queueBackend: "redis" | "postgres";
    redisMissing: string;
  }
}

export default async function setup(project: TestProject) {
  const services = await testServices();
  // This process's helpers read it as the test files' do (test/helpers/worker-env.ts).
  process.env.TEST_DATABASE_SERVER = services.databaseServer;
  const { createTemplate } = await import("./database.ts");
  const template = await createTemplate((url) => migrate(url, { quiet: true }));
  project.provide("templateDatabase", template.name);
  project.provide("databaseServer", services.databaseServer);
  project.provide("queueBackend", services.queueBackend);
  project.provide("redisMissing", services.redisMissing);
  return async () => {
    await template.drop();
    await services.stop();
  };
}
