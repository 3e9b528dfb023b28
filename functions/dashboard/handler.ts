// Serverless function "dashboard": the operator console at /dashboard (routes.tsx).
import { lambdaHandler } from "../http/lambda-handler.ts";
import { createDeps } from "../platform/deps.ts";
import { createApp } from "../http/create-app.ts";
import { dashboardRoutes } from "./routes.tsx";

export const handler = lambdaHandler((deps) => dashboardRoutes(createApp(deps), deps), createDeps);
