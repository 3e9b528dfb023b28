// `serverless package` works with no AWS account and no network, and the CloudFormation it writes has
// every function, route, the sweep's schedule, the worker service and the data stores, with no secret in it.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const out = mkdtempSync(join(tmpdir(), "tetik-package-"));
let template: { Resources: Record<string, { Type: string; Properties: any }> };
const ofType = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);

beforeAll(async () => {
  await promisify(execFile)("node_modules/.bin/serverless", ["package", "--stage", "test", "--package", out], {
    timeout: 120_000,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: "1", SLS_NOTIFICATIONS_MODE: "off", ESBUILD_WORK_FOLDER: join(out, "esbuild") },
  });
  template = JSON.parse(readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8"));
}, 150_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("serverless package", () => {
  it("has one Node 22 function per API area, in the VPC, plus the sweep on a one-minute schedule", () => {
    const functions = ofType("AWS::Lambda::Function");
    expect(functions).toHaveLength(7);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe("nodejs22.x");
      expect(fn.Properties.VpcConfig.SubnetIds).toEqual({ Ref: "PrivateSubnetIds" });
    }
    const [rule] = ofType("AWS::Events::Rule");
    expect(rule!.Properties.ScheduleExpression).toBe("rate(1 minute)");
  });

  it("routes every endpoint of the SPEC, and the rest to a 404 in tetik's shape", () => {
    const routes = ofType("AWS::ApiGatewayV2::Route").map((r) => r.Properties.RouteKey);
    for (const route of [
      "POST /definitions", "GET /definitions/{id}", "PATCH /definitions/{id}", "DELETE /definitions/{id}", "POST /definitions/{id}/triggers",
      "GET /triggers/{id}", "PATCH /triggers/{id}", "DELETE /triggers/{id}", "POST /webhooks", "GET /webhooks", "POST /webhooks/{id}/rotate-secret",
      "POST /webhooks/{id}/test", "GET /webhooks/{id}/deliveries", "POST /events", "POST /events/batch", "GET /events", "GET /events/{id}",
      "POST /events/{id}/replay", "POST /events/replay", "POST /collections/{collection}/records", "GET /collections/{collection}/records/{id}",
      "PATCH /collections/{collection}/records/{id}", "DELETE /collections/{collection}/records/{id}", "GET /health", "$default",
    ]) {
      expect(routes).toContain(route);
    }
  });

  it("creates the worker service with autoscaling on queue depth, Postgres behind RDS Proxy, and Redis", () => {
    const [task] = ofType("AWS::ECS::TaskDefinition");
    expect(task!.Properties.RequiresCompatibilities).toEqual(["FARGATE"]);
    expect(task!.Properties.ContainerDefinitions[0].HealthCheck.Command[0]).toBe("CMD");
    const workerEnv = Object.fromEntries(task!.Properties.ContainerDefinitions[0].Environment.map((e: { Name: string; Value: unknown }) => [e.Name, JSON.stringify(e.Value)]));
    expect(workerEnv.SECRETS_KEY).toContain("{{resolve:secretsmanager:");
    expect(ofType("AWS::ECS::Service")).toHaveLength(1);
    expect(ofType("AWS::ApplicationAutoScaling::ScalingPolicy")).toHaveLength(2);
    expect(ofType("AWS::CloudWatch::Alarm").map((a) => a.Properties.MetricName)).toEqual(["QueueDepth", "QueueDepth"]);
    expect(ofType("AWS::RDS::DBProxy")).toHaveLength(1);
    expect(ofType("AWS::RDS::DBInstance")[0]!.Properties.Engine).toBe("postgres");
    expect(ofType("AWS::ElastiCache::ReplicationGroup")[0]!.Properties.TransitEncryptionEnabled).toBe(true);
  });

  it("writes no secret into the template: credentials are dynamic references to Secrets Manager", () => {
    const env = ofType("AWS::Lambda::Function")[0]!.Properties.Environment.Variables;
    expect(JSON.stringify(env.DATABASE_URL)).toContain("{{resolve:secretsmanager:");
    expect(JSON.stringify(env.API_KEY)).toContain("{{resolve:secretsmanager:");
    expect(JSON.stringify(env.SECRETS_KEY)).toContain("{{resolve:secretsmanager:");
    expect(env.QUEUE_PREFIX).toBe("{tetik}");
    expect(JSON.stringify(template)).not.toMatch(/whsec_|password"\s*:\s*"[^{]/);
  });

  it("keeps each function's zip small", () => {
    const zips = readdirSync(out).filter((f) => f.endsWith(".zip"));
    expect(zips).toHaveLength(7);
    const sizes = Object.fromEntries(zips.map((z) => [z, Math.round(statSync(join(out, z)).size / 1024)]));
    console.info(`zipped function sizes (KiB): ${JSON.stringify(sizes)}`);
    // Lambda's limit is 50 MiB zipped; with Prisma's query compiler a function is near 2 MiB.
    for (const kib of Object.values(sizes)) expect(kib).toBeLessThan(3 * 1024);
    // The functions that query through plain SQL carry no ORM: they stay under 1 MiB (and start fast).
    for (const fn of ["events.zip", "collections.zip", "health.zip"]) expect(sizes[fn], fn).toBeLessThan(1024);
  });

  it("bundles no ORM into the events, collections and health functions", () => {
    for (const fn of ["events", "collections", "health"]) {
      const listing = execFileSync("unzip", ["-l", join(out, `${fn}.zip`)]).toString();
      expect(listing, fn).not.toMatch(/\.map\b|query_compiler|\.wasm/);
      const code = execFileSync("unzip", ["-p", join(out, `${fn}.zip`), `functions/api/${fn}.mjs`], { maxBuffer: 64 * 1024 * 1024 }).toString();
      expect(code, fn).not.toContain("PrismaClient");
    }
  });
});
