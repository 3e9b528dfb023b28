import type { TestProject } from "vitest/node";
import { migrate } from "../../functions/ops/migrate.ts";
import { createTemplate } from "./database.ts";

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  const template = await createTemplate((url) => migrate(url, { quiet: true }));
  project.provide("templateDatabase", template.name);
  return () => template.drop();
}
