// Serverless function "dashboard": the operator console at /dashboard (routes.tsx).
import { lambdaHandler } from "../api/lambda.ts";
import { createDeps } from "../platform/deps.ts";
import { createApp } from "../platform/http/create-app.ts";
import { dashboardRoutes } from "./routes.tsx";

export const handler = lambdaHandler((deps) => dashboardRoutes(createApp(deps), deps), createDeps);
