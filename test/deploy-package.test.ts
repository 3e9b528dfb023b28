// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests read Fn::Sub strings like "${AWS::Region}"
// `serverless package` works with no AWS account and no network, and the CloudFormation it writes is one a
// fresh account accepts: no stack parameters (the core stack serverless creates first takes none), the
// account's VPC, subnets and image written in, migrations run before any code that needs them, and no
// secret anywhere in it.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routesByFunction } from "../functions/api/contract/routes.ts";

interface Resource {
  Type: string;
  /* biome-ignore lint/suspicious/noExplicitAny: CloudFormation as serverless writes it, read by path;
     its shape is checked by cfn-lint (npm run lint:infra) */
  Properties: any;
  DependsOn?: string[];
}
interface Template {
  Parameters?: Record<string, unknown>;
  Resources: Record<string, Resource>;
}

const VPC = "vpc-0123456789abcdef0";
const SUBNETS = "subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2";
const IMAGE = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/tetik:abc1234";

const out = mkdtempSync(join(tmpdir(), "tetik-package-"));
let template: Template;
let core: Template;
let state: { service: { provider: Record<string, unknown> } };
const ofType = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
const one = (type: string) => {
  const found = ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const functions = () => Object.entries(template.Resources).filter(([, r]) => r.Type === "AWS::Lambda::Function");

beforeAll(async () => {
  await promisify(execFile)(
    "node_modules/.bin/serverless",
    [
      "package",
      "--stage",
      "test",
      "--package",
      out,
      `--param=vpcId=${VPC}`,
      `--param=privateSubnetIds=${SUBNETS}`,
      `--param=workerImage=${IMAGE}`,
      // Sizes are params too, with defaults: two of them given here, the rest left to their defaults.
      "--param=databaseInstanceClass=db.r7g.large",
      "--param=workerMaxTasks=4",
    ],
    {
      timeout: 120_000,
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: "1",
        SLS_NOTIFICATIONS_MODE: "off",
        ESBUILD_WORK_FOLDER: join(out, "esbuild"),
      },
    },
  );
  template = JSON.parse(readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8"));
  core = JSON.parse(readFileSync(join(out, "cloudformation-template-create-stack.json"), "utf8"));
  state = JSON.parse(readFileSync(join(out, "serverless-state.json"), "utf8"));
}, 150_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("serverless package", () => {
  it("asks CloudFormation for no parameter the first stack would refuse: the account's ids are written in", () => {
    // serverless sends the same stack parameters to the core stack (its deployment bucket) it creates first
    // on a fresh account; that stack declares none, so any required one failed the first deploy.
    expect(state.service.provider).not.toHaveProperty("stackParameters");
    expect(template.Parameters ?? {}).toEqual({});
    for (const group of ofType("AWS::EC2::SecurityGroup")) expect(group.Properties.VpcId).toBe(VPC);
    expect(one("AWS::ECS::TaskDefinition").Properties.ContainerDefinitions[0].Image).toBe(IMAGE);
    const subnets = { "Fn::Split": [",", SUBNETS] };
    expect(one("AWS::RDS::DBSubnetGroup").Properties.SubnetIds).toEqual(subnets);
    expect(one("AWS::ECS::Service").Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets).toEqual(subnets);
  });

  it("has one Node 22 function per API area, the migrations and the sweep, all in the VPC; sweep every minute", () => {
    expect(
      functions()
        .map(([name]) => name)
        .sort(),
    ).toEqual(
      [
        "Collections",
        "Dashboard",
        "Definitions",
        "Docs",
        "Events",
        "Health",
        "Migrate",
        "Sweep",
        "WebhookTesting",
        "Webhooks",
      ].map((n) => `${n}LambdaFunction`),
    );
    for (const [name, fn] of functions()) {
      expect(fn.Properties.Runtime, name).toBe("nodejs22.x");
      expect(fn.Properties.VpcConfig.SubnetIds, name).toEqual({ "Fn::Split": [",", SUBNETS] });
    }
    expect(one("AWS::Events::Rule").Properties.ScheduleExpression).toBe("rate(1 minute)");
  });

  it(
    "routes exactly the declared routes, each to the function whose app serves it, " +
      "and the rest to a 404 in tetik's shape",
    () => {
      // serverless.yml and the route declarations (functions/api/contract/routes.ts) cannot drift apart:
      // a route missing from either, or sent to another function than the one that registers it, fails here.
      const deployed = ofType("AWS::ApiGatewayV2::Route").map((r) => {
        const integration = r.Properties.Target["Fn::Join"][1][1].Ref as string;
        return `${integration.replace(/^HttpApiIntegration/, "")} ${r.Properties.RouteKey}`;
      });
      const declared = Object.entries(routesByFunction).flatMap(([fn, routes]) =>
        Object.values(routes).map(
          (route) => `${fn[0]!.toUpperCase()}${fn.slice(1)} ${route.method.toUpperCase()} ${route.path}`,
        ),
      );
      // Besides the declared routes: the reference page's files, and every other path to health's 404.
      expect(deployed.sort()).toEqual(
        [
          ...declared,
          "Docs GET /docs/{asset}",
          "Dashboard GET /dashboard",
          "Dashboard ANY /dashboard/{proxy+}",
          "Health $default",
        ].sort(),
      );
      // One JSON line per request in CloudWatch.
      expect(one("AWS::ApiGatewayV2::Stage").Properties.AccessLogSettings.DestinationArn).toBeDefined();
    },
  );

  it("runs the migrations as a custom resource after the database is ready and before any code that needs them", () => {
    const migrations = template.Resources.Migrations!;
    expect(migrations.Type).toBe("Custom::Migrations");
    expect(migrations.DependsOn).toContain("DatabaseProxyTargets");
    expect(migrations.Properties.ServiceToken).toEqual({ "Fn::GetAtt": ["MigrateLambdaFunction", "Arn"] });
    expect(migrations.Properties.Checksum).toMatch(/^[0-9a-f]{64}$/);
    // The docs function reads no table: it needs no migration first.
    for (const [name, fn] of functions()) {
      if (name !== "MigrateLambdaFunction" && name !== "DocsLambdaFunction")
        expect(fn.DependsOn, name).toContain("Migrations");
    }
    expect(template.Resources.WorkerService!.DependsOn).toContain("Migrations");
    // The worker only works: it no longer migrates when its task starts.
    expect(one("AWS::ECS::TaskDefinition").Properties.ContainerDefinitions[0].Command).toEqual([
      "node",
      "--enable-source-maps",
      "dist/worker.mjs",
    ]);
    const listing = execFileSync("unzip", ["-l", join(out, "migrate.zip")]).toString();
    for (const name of readdirSync("prisma/migrations").filter((n) => !n.endsWith(".toml"))) {
      expect(listing).toContain(`prisma/migrations/${name}/migration.sql`);
    }
  });

  it("writes no secret into the template or a function's configuration: they are read when the code runs", () => {
    const text = JSON.stringify(template);
    expect(text).not.toMatch(/whsec_|password"\s*:\s*"[^{]/);
    for (const [name, fn] of functions()) {
      const env = fn.Properties.Environment.Variables;
      // A dynamic reference would put the value in the function's configuration, visible to whoever may read it.
      expect(JSON.stringify(env), name).not.toContain("{{resolve:");
      expect(Object.keys(env), name).not.toEqual(expect.arrayContaining(["API_KEY"]));
      expect(Object.keys(env), name).not.toEqual(expect.arrayContaining(["SECRETS_KEY"]));
      const secrets = JSON.stringify(env.AWS_SECRETS);
      for (const key of [
        "DATABASE_PASSWORD=${DatabaseSecret}#password",
        "REDIS_PASSWORD=${CacheAuthSecret}#token",
        "API_KEY=${ApiKeySecret}#apiKey",
        "SECRETS_KEY=${SecretsKeySecret}#secretsKey",
        "SECRETS_KEY_PREVIOUS=${SecretsKeyPreviousSecret}#previous",
      ]) {
        expect(secrets, name).toContain(key);
      }
      // No password in the URL, and the proxy's certificate checked.
      expect(JSON.stringify(env.DATABASE_URL), name).toContain(
        "postgresql://tetik@${DatabaseProxy.Endpoint}:5432/tetik?sslmode=verify-full",
      );
      expect(env.QUEUE_PREFIX).toBe("{tetik}");
    }
    const policies = JSON.stringify(ofType("AWS::IAM::Role").map((role) => role.Properties.Policies));
    expect(policies).toContain("secretsmanager:GetSecretValue");
    // Metrics only into tetik's namespace.
    expect(policies).toContain('"cloudwatch:namespace":"tetik/test"');

    const container = one("AWS::ECS::TaskDefinition").Properties.ContainerDefinitions[0];
    const workerEnv = JSON.stringify(container.Environment);
    expect(workerEnv).not.toContain("{{resolve:");
    expect(workerEnv).not.toContain("SECRETS_KEY");
    expect(container.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual([
      "DATABASE_PASSWORD",
      "REDIS_PASSWORD",
      "SECRETS_KEY",
      "SECRETS_KEY_PREVIOUS",
    ]);
  });

  it(
    "keeps the data safe and the stores fit for BullMQ: deletion protection, growing storage, " +
      "a pinned engine, noeviction, Redis AUTH",
    () => {
      const database = one("AWS::RDS::DBInstance").Properties;
      expect(database.Engine).toBe("postgres");
      expect(database.DeletionProtection).toBe(true);
      expect(database.MaxAllocatedStorage).toBe(500);
      expect(database.EngineVersion).toMatch(/^\d+\.\d+$/);
      // Given at package time (--param), as the account's ids are.
      expect(database.DBInstanceClass).toBe("db.r7g.large");
      expect(database.AutoMinorVersionUpgrade).toBe(false);
      expect(one("AWS::RDS::DBProxy").Properties.RequireTLS).toBe(true);
      const cache = one("AWS::ElastiCache::ReplicationGroup").Properties;
      expect(cache.TransitEncryptionEnabled).toBe(true);
      expect(JSON.stringify(cache.AuthToken)).toContain("{{resolve:secretsmanager:${CacheAuthSecret}");
      expect(one("AWS::ElastiCache::ParameterGroup").Properties.Properties["maxmemory-policy"]).toBe("noeviction");
      // serverless's own deployment bucket is private.
      expect(core.Resources.ServerlessDeploymentBucket!.Properties.PublicAccessBlockConfiguration).toMatchObject({
        BlockPublicAcls: true,
        RestrictPublicBuckets: true,
      });
    },
  );

  it("creates the worker service with a circuit breaker and autoscaling on queue depth", () => {
    const task = one("AWS::ECS::TaskDefinition").Properties;
    expect(task.RequiresCompatibilities).toEqual(["FARGATE"]);
    expect(task.ContainerDefinitions[0].HealthCheck.Command[0]).toBe("CMD");
    expect(one("AWS::ECS::Service").Properties.DeploymentConfiguration.DeploymentCircuitBreaker).toEqual({
      Enable: true,
      Rollback: true,
    });
    expect(one("AWS::ECS::Service").Properties.DesiredCount).toBe(1);
    // A param given on the command line arrives as text, which CloudFormation reads as the number.
    expect(one("AWS::ApplicationAutoScaling::ScalableTarget").Properties).toMatchObject({
      MinCapacity: 1,
      MaxCapacity: "4",
    });
    expect(ofType("AWS::ApplicationAutoScaling::ScalingPolicy")).toHaveLength(2);
    expect(ofType("AWS::CloudWatch::Alarm").map((a) => a.Properties.MetricName)).toEqual(["QueueDepth", "QueueDepth"]);
  });

  it("keeps each function's zip small", () => {
    const zips = readdirSync(out).filter((f) => f.endsWith(".zip"));
    expect(zips).toHaveLength(10);
    const sizes = Object.fromEntries(zips.map((z) => [z, Math.round(statSync(join(out, z)).size / 1024)]));
    console.info(`zipped function sizes (KiB): ${JSON.stringify(sizes)}`);
    // Lambda's limit is 50 MiB zipped; with Prisma's query compiler a function is near 2 MiB.
    for (const kib of Object.values(sizes)) expect(kib).toBeLessThan(3 * 1024);
    // The functions that query through plain SQL carry no ORM: they stay under 1 MiB (and start fast).
    for (const fn of ["events.zip", "collections.zip", "health.zip", "migrate.zip"])
      expect(sizes[fn], fn).toBeLessThan(1024);
  });

  it("bundles no ORM into the events, collections and health functions", () => {
    for (const fn of ["events", "collections", "health"]) {
      const listing = execFileSync("unzip", ["-l", join(out, `${fn}.zip`)]).toString();
      expect(listing, fn).not.toMatch(/\.map\b|query_compiler|\.wasm/);
      const code = execFileSync("unzip", ["-p", join(out, `${fn}.zip`), `functions/api/${fn}.mjs`], {
        maxBuffer: 64 * 1024 * 1024,
      }).toString();
      expect(code, fn).not.toContain("PrismaClient");
    }
  });
});

describe("docker compose", () => {
  it("runs the sweep without the worker's heartbeat check, which it has no heartbeat for", () => {
    const compose = readFileSync("infra/docker-compose.yml", "utf8");
    const sweep = compose.slice(compose.indexOf("\n  sweep:"));
    expect(sweep).toMatch(/healthcheck:\s*\{?\s*disable:\s*true/);
  });
});
