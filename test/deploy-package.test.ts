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
  DeletionPolicy?: string;
}
interface Template {
  Parameters?: Record<string, unknown>;
  Resources: Record<string, Resource>;
}

const VPC = "vpc-0123456789abcdef0";
const SUBNETS = "subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2";
const IMAGE = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/tetik:abc1234";

const out = mkdtempSync(join(tmpdir(), "tetik-package-"));
const outFirst = mkdtempSync(join(tmpdir(), "tetik-package-first-"));
const outPostgres = mkdtempSync(join(tmpdir(), "tetik-package-postgres-"));
let template: Template;
let core: Template;
let state: { service: { provider: Record<string, unknown> } };
/** The same, packaged as infra/deploy.sh packages a stack's first deploy (databaseProtection=false). */
let firstDeploy: Template;
/** The same with the queue in Postgres (queue=postgres): no ElastiCache. */
let onPostgres: Template;
const ofType = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
const one = (type: string) => {
  const found = ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const functions = () => Object.entries(template.Resources).filter(([, r]) => r.Type === "AWS::Lambda::Function");

/** `serverless package` into `dir` with the account's ids and `params`; answers the update template. */
async function packageStack(dir: string, params: string[]): Promise<Template> {
  await promisify(execFile)(
    "node_modules/.bin/serverless",
    [
      "package",
      "--stage",
      "test",
      "--package",
      dir,
      `--param=vpcId=${VPC}`,
      `--param=privateSubnetIds=${SUBNETS}`,
      `--param=workerImage=${IMAGE}`,
      ...params,
    ],
    {
      timeout: 120_000,
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: "1",
        SLS_NOTIFICATIONS_MODE: "off",
        ESBUILD_WORK_FOLDER: join(dir, "esbuild"),
      },
    },
  );
  return JSON.parse(readFileSync(join(dir, "cloudformation-template-update-stack.json"), "utf8"));
}

beforeAll(async () => {
  // One after the other: serverless-esbuild stages its zips in the project's .serverless/ folder.
  // Sizes are params too, with defaults: a few given here, the rest left to their defaults.
  template = await packageStack(out, [
    "--param=databaseInstanceClass=db.r7g.large",
    "--param=workerMaxTasks=4",
    "--param=alarmEmail=ops@example.com",
  ]);
  firstDeploy = await packageStack(outFirst, ["--param=databaseProtection=false"]);
  onPostgres = await packageStack(outPostgres, ["--param=queue=postgres"]);
  core = JSON.parse(readFileSync(join(out, "cloudformation-template-create-stack.json"), "utf8"));
  state = JSON.parse(readFileSync(join(out, "serverless-state.json"), "utf8"));
}, 360_000);
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(outFirst, { recursive: true, force: true });
  rmSync(outPostgres, { recursive: true, force: true });
});

describe("serverless package", () => {
  it("asks CloudFormation for no parameter the first stack would refuse: the account's ids are written in", () => {
    // serverless sends the same stack parameters to the core stack (its deployment bucket) it creates first
    // on a fresh account; that stack declares none, so any required one failed the first deploy.
    expect(state.service.provider).not.toHaveProperty("stackParameters");
    expect(template.Parameters ?? {}).toEqual({});
    for (const group of ofType("AWS::EC2::SecurityGroup")) expect(group.Properties.VpcId).toBe(VPC);
    expect(template.Resources.WorkerTaskDefinition!.Properties.ContainerDefinitions[0].Image).toBe(IMAGE);
    const subnets = { "Fn::Split": [",", SUBNETS] };
    expect(one("AWS::RDS::DBSubnetGroup").Properties.SubnetIds).toEqual(subnets);
    expect(one("AWS::ECS::Service").Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets).toEqual(subnets);
  });

  it(
    "has one Node 22 function per API area, the migrations and the sweep, all in the VPC but docs; " +
      "sweep every minute",
    () => {
      expect(
        functions()
          .map(([name]) => name)
          .sort(),
      ).toEqual(
        [
          "Access",
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
        // The reference page reaches nothing in the VPC: outside it, it starts without a network interface.
        if (name === "DocsLambdaFunction") expect(fn.Properties.VpcConfig, name).toBeUndefined();
        else expect(fn.Properties.VpcConfig.SubnetIds, name).toEqual({ "Fn::Split": [",", SUBNETS] });
      }
      expect(one("AWS::Events::Rule").Properties.ScheduleExpression).toBe("rate(1 minute)");
    },
  );

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
    expect(template.Resources.WorkerTaskDefinition!.Properties.ContainerDefinitions[0].Command).toEqual([
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
      expect(env.QUEUE_PREFIX).toBe("{tetik}");
    }
    const container = template.Resources.WorkerTaskDefinition!.Properties.ContainerDefinitions[0];
    const workerEnv = JSON.stringify(container.Environment);
    expect(workerEnv).not.toContain("{{resolve:");
    expect(workerEnv).not.toContain("SECRETS_KEY");
    expect(container.Secrets).toEqual([
      { Name: "DATABASE_PASSWORD", ValueFrom: { "Fn::Sub": "${AppDatabaseSecret}:password::" } },
      { Name: "REDIS_PASSWORD", ValueFrom: { "Fn::Sub": "${CacheAuthSecret}:token::" } },
      { Name: "SECRETS_KEY", ValueFrom: { "Fn::Sub": "${SecretsKeySecret}:secretsKey::" } },
      { Name: "SECRETS_KEY_PREVIOUS", ValueFrom: { "Fn::Sub": "${SecretsKeyPreviousSecret}:previous::" } },
    ]);
  });

  it(
    "gives each function its own role, which reads exactly the secrets the function is told about: " +
      "the webhook key only where webhook secrets are sealed or used, the master password only for migrations",
    () => {
      const queue = "CacheAuthSecret#token";
      const api = ["AppDatabaseSecret#password", "ApiKeySecret#apiKey", queue];
      const sealing = [
        "AppDatabaseSecret#password",
        "ApiKeySecret#apiKey",
        "SecretsKeySecret#secretsKey",
        "SecretsKeyPreviousSecret#previous",
        queue,
      ];
      const expected: Record<string, string[]> = {
        Definitions: api,
        Events: api,
        Collections: api,
        Access: api,
        Health: api,
        Webhooks: sealing,
        WebhookTesting: sealing,
        Dashboard: sealing,
        Docs: [],
        Sweep: ["AppDatabaseSecret#password", queue],
        Migrate: ["DatabaseSecret#password", "AppDatabaseSecret#password"],
      };
      const roles = new Set<string>();
      for (const [logicalId, fn] of functions()) {
        const name = logicalId.replace(/LambdaFunction$/, "");
        const env = fn.Properties.Environment.Variables;
        // "DATABASE_PASSWORD=${AppDatabaseSecret}#password,..." -> "AppDatabaseSecret#password"
        const told = env.AWS_SECRETS
          ? (env.AWS_SECRETS["Fn::Sub"] as string).split(",").map((item) => item.replace(/^\w+=\$\{(\w+)\}/, "$1"))
          : [];
        expect(told, name).toEqual(expected[name]);

        const role = fn.Properties.Role["Fn::GetAtt"][0] as string;
        expect(role, name).toBe(`${name}FunctionRole`);
        roles.add(role);
        const statements = template.Resources[role]!.Properties.Policies.flatMap(
          (policy: { PolicyDocument: { Statement: unknown[] } }) => policy.PolicyDocument.Statement,
        );
        const readable = statements
          .filter((st: { Action: string | string[] }) => [st.Action].flat().includes("secretsmanager:GetSecretValue"))
          .flatMap((st: { Resource: Array<{ Ref: string }> }) => st.Resource.map((r) => r.Ref));
        expect(readable.sort(), name).toEqual([...new Set(told.map((t) => t.split("#")[0]))].sort());
        const metrics = statements.filter((st: { Action: string }) => st.Action === "cloudwatch:PutMetricData");
        // Only the sweep reports metrics, into tetik's namespace only.
        expect(metrics, name).toEqual(
          name === "Sweep"
            ? [expect.objectContaining({ Condition: { StringEquals: { "cloudwatch:namespace": "tetik/test" } } })]
            : [],
        );
        // Logs into its own log group only.
        expect(JSON.stringify(statements), name).toContain(
          `log-group:/aws/lambda/tetik-test-${name[0]!.toLowerCase()}`,
        );
      }
      expect(roles.size).toBe(functions().length);
      // No shared role of serverless's own is left.
      expect(template.Resources).not.toHaveProperty("IamRoleLambdaExecution");

      // The API, the worker and the sweep connect as tetik_app; only the migrations as the master user.
      for (const [logicalId, fn] of functions()) {
        const url = JSON.stringify(fn.Properties.Environment.Variables.DATABASE_URL);
        expect(url, logicalId).toContain(
          logicalId === "MigrateLambdaFunction"
            ? "postgresql://tetik@${DatabaseProxy.Endpoint}:5432/tetik?sslmode=verify-full"
            : "postgresql://tetik_app@${DatabaseProxy.Endpoint}:5432/tetik?sslmode=verify-full",
        );
      }
      const workerUrl = template.Resources.WorkerTaskDefinition!.Properties.ContainerDefinitions[0].Environment.find(
        (e: { Name: string }) => e.Name === "DATABASE_URL",
      );
      expect(JSON.stringify(workerUrl)).toContain("postgresql://tetik_app@");
      // RDS Proxy lets each of the two users in with its own secret.
      expect(
        one("AWS::RDS::DBProxy").Properties.Auth.map((a: { SecretArn: { Ref: string } }) => a.SecretArn.Ref),
      ).toEqual(["AppDatabaseSecret", "DatabaseSecret"]);
    },
  );

  it(
    "keeps the data safe and the stores fit for BullMQ: deletion protection, growing storage, " +
      "a major engine version, noeviction, Redis AUTH, a connection cap at the proxy",
    () => {
      const database = template.Resources.Database!;
      expect(database.Properties.Engine).toBe("postgres");
      expect(String(database.Properties.DeletionProtection)).toBe("true");
      expect(database.DeletionPolicy).toBe("Snapshot");
      expect(database.Properties.MaxAllocatedStorage).toBe(500);
      // A major: RDS creates its current minor (a pinned minor stops being offered for new instances).
      expect(database.Properties.EngineVersion).toMatch(/^\d+$/);
      expect(database.Properties.AutoMinorVersionUpgrade).toBe(true);
      // Given at package time (--param), as the account's ids are.
      expect(database.Properties.DBInstanceClass).toBe("db.r7g.large");
      expect(one("AWS::RDS::DBProxy").Properties.RequireTLS).toBe(true);
      expect(one("AWS::RDS::DBProxyTargetGroup").Properties.ConnectionPoolConfigurationInfo).toMatchObject({
        MaxConnectionsPercent: 80,
        ConnectionBorrowTimeout: 10,
      });
      const cache = one("AWS::ElastiCache::ReplicationGroup").Properties;
      expect(cache.TransitEncryptionEnabled).toBe(true);
      expect(JSON.stringify(cache.AuthToken)).toContain("{{resolve:secretsmanager:${CacheAuthSecret}");
      expect(one("AWS::ElastiCache::ParameterGroup").Properties.Properties["maxmemory-policy"]).toBe("noeviction");
      // serverless's own deployment bucket is private.
      expect(core.Resources.ServerlessDeploymentBucket!.Properties.PublicAccessBlockConfiguration).toMatchObject({
        BlockPublicAcls: true,
        RestrictPublicBuckets: true,
      });
      // The secrets are kept when the stack goes, but go with a deploy that made them and rolled back.
      const secrets = ofType("AWS::SecretsManager::Secret");
      expect(secrets).toHaveLength(6);
      for (const secret of secrets) expect(secret.DeletionPolicy).toBe("RetainExceptOnCreate");
      // A flood of requests meets the HTTP API's throttle, not the database.
      expect(template.Resources.HttpApiStage!.Properties.DefaultRouteSettings).toMatchObject({
        ThrottlingRateLimit: 1000,
        ThrottlingBurstLimit: 2000,
      });
    },
  );

  it("packages a stack's first deploy without deletion protection: a failed one leaves no database behind", () => {
    const database = firstDeploy.Resources.Database!;
    expect(String(database.Properties.DeletionProtection)).toBe("false");
    expect(database.DeletionPolicy).toBe("Delete");
    // The rest is the same stack (but the alarm subscription, which only the other was given an address for).
    expect(Object.keys(firstDeploy.Resources).sort()).toEqual(
      Object.keys(template.Resources)
        .filter((id) => id !== "AlarmEmailSubscription")
        .sort(),
    );
  });

  it(
    "creates the worker service with a circuit breaker, its count owned by autoscaling on the jobs due, " +
      "and a one-off task for long migrations",
    () => {
      const task = template.Resources.WorkerTaskDefinition!.Properties;
      expect(task.RequiresCompatibilities).toEqual(["FARGATE"]);
      expect(task.ContainerDefinitions[0].HealthCheck.Command[0]).toBe("CMD");
      const service = one("AWS::ECS::Service").Properties;
      expect(service.DeploymentConfiguration.DeploymentCircuitBreaker).toEqual({ Enable: true, Rollback: true });
      // A DesiredCount would reset the count autoscaling set, at every deploy.
      expect(service).not.toHaveProperty("DesiredCount");
      // A param given on the command line arrives as text, which CloudFormation reads as the number.
      expect(one("AWS::ApplicationAutoScaling::ScalableTarget").Properties).toMatchObject({
        MinCapacity: 1,
        MaxCapacity: "4",
      });
      expect(ofType("AWS::ApplicationAutoScaling::ScalingPolicy")).toHaveLength(2);
      for (const id of ["DueJobsHigh", "DueJobsLow"]) {
        expect(template.Resources[id]!.Properties).toMatchObject({ Namespace: "tetik/test", MetricName: "DueJobs" });
      }

      const migrate = template.Resources.MigrateTaskDefinition!.Properties.ContainerDefinitions[0];
      expect(migrate.Image).toBe(IMAGE);
      expect(migrate.Command).toEqual(["node", "--enable-source-maps", "dist/migrate.mjs"]);
      expect(JSON.stringify(migrate.Environment)).toContain("postgresql://tetik@${DatabaseProxy.Endpoint}");
      expect(migrate.Secrets.map((s: { ValueFrom: { "Fn::Sub": string } }) => s.ValueFrom["Fn::Sub"])).toEqual([
        "${DatabaseSecret}:password::",
        "${AppDatabaseSecret}:password::",
      ]);
    },
  );

  it(
    "sends every alarm to one topic: functions that crash or are throttled (each function covered), the API's " +
      "5xx, a sweep that stopped, no worker, and the database, proxy and Redis running short",
    () => {
      const alarms = Object.fromEntries(
        Object.entries(template.Resources).filter(
          ([id, r]) => r.Type === "AWS::CloudWatch::Alarm" && !id.startsWith("DueJobs"),
        ),
      );
      expect(Object.keys(alarms).sort()).toEqual(
        [
          "ApiServerErrorsAlarm",
          "BacklogNotDrainingAlarm",
          "DatabaseConnectionsHighAlarm",
          "DatabaseCpuCreditsLowAlarm",
          "DatabaseProxyAuthFailuresAlarm",
          "DatabaseStorageLowAlarm",
          // Eleven functions: CloudWatch sums at most ten metrics in one alarm, so each is two alarms.
          "FunctionErrorsAlarm1",
          "FunctionErrorsAlarm2",
          "FunctionThrottlesAlarm1",
          "FunctionThrottlesAlarm2",
          "RedisMemoryHighAlarm",
          "SweepNotRunningAlarm",
          "WorkerNotRunningAlarm",
        ].sort(),
      );
      for (const [id, alarm] of Object.entries(alarms)) {
        expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: "AlarmTopic" }]);
        expect(alarm.Properties.OKActions, id).toEqual([{ Ref: "AlarmTopic" }]);
      }
      expect(one("AWS::SNS::Subscription").Properties).toMatchObject({
        Protocol: "email",
        Endpoint: "ops@example.com",
      });
      // Without an address there is a topic to subscribe to, and no subscription.
      expect(Object.values(firstDeploy.Resources).filter((r) => r.Type === "AWS::SNS::Subscription")).toEqual([]);

      const watched = (id: string) =>
        alarms[id]!.Properties.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map(
          (m: { MetricStat: { Metric: { Dimensions: Array<{ Value: { Ref: string } }> } } }) =>
            m.MetricStat.Metric.Dimensions[0]!.Value.Ref,
        );
      const all = functions()
        .map(([id]) => id)
        .sort();
      const watchedAll = (id: string) => [...watched(`${id}1`), ...watched(`${id}2`)].sort();
      expect(watchedAll("FunctionErrorsAlarm")).toEqual(all);
      expect(watchedAll("FunctionThrottlesAlarm")).toEqual(all);
      // A sweep that stops finishing runs stops reporting them: missing data counts against it.
      expect(alarms.SweepNotRunningAlarm!.Properties).toMatchObject({
        Namespace: "tetik/test",
        MetricName: "SweepRuns",
        TreatMissingData: "breaching",
      });
      expect(alarms.DatabaseProxyAuthFailuresAlarm!.Properties.MetricName).toBe("ClientConnectionsSetupFailedAuth");
      expect(alarms.RedisMemoryHighAlarm!.Properties.Threshold).toBe(80);
    },
  );

  it("lets the deployer's policy (infra/aws/deployer-policy.json) act on every kind of resource of both stacks", () => {
    const policy = JSON.parse(readFileSync("infra/aws/deployer-policy.json", "utf8"));
    const allowed: string[] = policy.Statement.flatMap((st: { Action: string[] }) => st.Action);
    const allows = (action: string) =>
      allowed.some((a) => a === action || (a.endsWith("*") && action.startsWith(a.slice(0, -1))));
    // CloudFormation's type -> the IAM prefix of the service that makes it.
    const service: Record<string, string> = {
      ApiGatewayV2: "apigateway",
      ApplicationAutoScaling: "application-autoscaling",
      CloudWatch: "cloudwatch",
      EC2: "ec2",
      ECS: "ecs",
      ElastiCache: "elasticache",
      Events: "events",
      IAM: "iam",
      Lambda: "lambda",
      Logs: "logs",
      RDS: "rds",
      S3: "s3",
      SecretsManager: "secretsmanager",
      SNS: "sns",
    };
    const types = new Set([...Object.values(template.Resources), ...Object.values(core.Resources)].map((r) => r.Type));
    for (const type of types) {
      if (type.startsWith("Custom::")) continue; // the migrate function, invoked by CloudFormation itself
      const prefix = service[type.split("::")[1]!];
      expect(prefix, `${type} has no service in this test's table`).toBeDefined();
      if (prefix === "iam") expect(allows("iam:CreateRole") && allows("iam:PassRole"), type).toBe(true);
      else if (prefix === "ec2") expect(allows("ec2:CreateSecurityGroup"), type).toBe(true);
      else expect(allows(`${prefix}:Create`), type).toBe(true);
    }
    expect(allows("cloudformation:CreateStack")).toBe(true);
  });

  it("keeps each function's zip small", () => {
    const zips = readdirSync(out).filter((f) => f.endsWith(".zip"));
    expect(zips).toHaveLength(11);
    const sizes = Object.fromEntries(zips.map((z) => [z, Math.round(statSync(join(out, z)).size / 1024)]));
    console.info(`zipped function sizes (KiB): ${JSON.stringify(sizes)}`);
    // Lambda's limit is 50 MiB zipped; with Prisma's query compiler a function is near 2 MiB.
    for (const kib of Object.values(sizes)) expect(kib).toBeLessThan(3 * 1024);
    // The functions that query through plain SQL carry no ORM: they stay under 1 MiB (and start fast).
    for (const fn of ["events.zip", "collections.zip", "health.zip", "migrate.zip", "access.zip"])
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

  it("with queue=postgres, makes no ElastiCache and points the functions' and workers' queue at the database", () => {
    const resources = Object.entries(onPostgres.Resources);
    expect(resources.filter(([id, r]) => /ElastiCache/.test(r.Type) || /Cache|Redis/.test(id))).toEqual([]);
    const direct =
      "postgresql://tetik_app@${Database.Endpoint.Address}:${Database.Endpoint.Port}/tetik?sslmode=verify-full";
    const proxied = "postgresql://tetik_app@${DatabaseProxy.Endpoint}:5432/tetik?sslmode=verify-full";
    for (const [id, fn] of resources.filter(([, r]) => r.Type === "AWS::Lambda::Function")) {
      const env = fn.Properties.Environment.Variables;
      expect(env, id).not.toHaveProperty("REDIS_URL");
      expect(env, id).toMatchObject({
        QUEUE_BACKEND: "postgres",
        QUEUE_DATABASE_URL: { "Fn::Sub": direct },
        // The database's certificate is the RDS CA's, which Lambda's runtime keeps here.
        NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem",
      });
      if (!id.startsWith("Migrate")) expect(env.DATABASE_URL, id).toEqual({ "Fn::Sub": proxied });
      expect(JSON.stringify(env.AWS_SECRETS ?? ""), id).not.toContain("Cache");
    }
    const worker = onPostgres.Resources.WorkerTaskDefinition!.Properties.ContainerDefinitions[0];
    const workerEnv = Object.fromEntries(
      worker.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
    );
    expect(workerEnv).toMatchObject({
      DATABASE_URL: { "Fn::Sub": proxied },
      QUEUE_BACKEND: "postgres",
      QUEUE_DATABASE_URL: { "Fn::Sub": direct },
      NODE_EXTRA_CA_CERTS: "/app/rds-ca.pem",
    });
    expect(workerEnv).not.toHaveProperty("REDIS_URL");
    expect(worker.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual([
      "DATABASE_PASSWORD",
      "SECRETS_KEY",
      "SECRETS_KEY_PREVIOUS",
    ]);
    // The image has the CA where the worker is told to find it.
    expect(readFileSync("infra/worker.Dockerfile", "utf8")).toMatch(/^ADD .*global-bundle\.pem \/app\/rds-ca\.pem$/m);
    // The database takes the queue's connections from the functions and the workers, on its port alone.
    const ingress = resources
      .filter(([, r]) => r.Type === "AWS::EC2::SecurityGroupIngress")
      .map(([, r]) => r.Properties)
      .filter((p) => p.GroupId.Ref === "DatabaseSecurityGroup");
    expect(ingress.map((p) => [p.SourceSecurityGroupId.Ref, p.FromPort, p.ToPort]).sort()).toEqual([
      ["LambdaSecurityGroup", 5432, 5432],
      ["WorkerSecurityGroup", 5432, 5432],
    ]);
  });
});
