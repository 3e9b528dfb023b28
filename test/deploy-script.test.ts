// infra/deploy.sh decides what a deploy asks of AWS: a stack's first deploy without deletion protection
// (then a second one with it), none for a stack left half-made, a warning for a low Lambda quota. Its
// decisions are checked here with stand-ins for the `aws` and `npx` commands that write down what they were
// asked and answer as the account would; what AWS then does with a template is deploy-package.test.ts's.
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const bin = mkdtempSync(join(tmpdir(), "tetik-deploy-bin-"));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

// `aws`: the stack's status and outputs and the account's quota, from the environment the test sets.
writeFileSync(
  join(bin, "aws"),
  `#!/usr/bin/env bash
echo "aws $*" >> "$FAKE_LOG"
case "$*" in
  *"describe-stacks"*"StackStatus"*)
    [[ $FAKE_STATUS == NONE ]] && { echo "Stack does not exist" >&2; exit 254; }
    echo "$FAKE_STATUS" ;;
  *"describe-stacks"*"DatabaseInstanceId"*) echo "\${FAKE_DATABASE:-None}" ;;
  *"get-account-settings"*) echo "$FAKE_CONCURRENCY" ;;
  *"describe-stacks"*"Outputs"*) echo "$*" | sed -E "s/.*OutputKey=='([A-Za-z]+)'.*/\\1-value/" ;;
  *"ecs run-task"*) echo "arn:aws:ecs:eu-central-1:123456789012:task/tetik/abc" ;;
  *"describe-tasks"*"lastStatus"*) echo STOPPED ;;
  *"describe-tasks"*"exitCode"*) echo "$FAKE_EXIT_CODE" ;;
  *"describe-tasks"*"stoppedReason"*) echo "Essential container in task exited" ;;
  *) echo "unexpected: aws $*" >&2; exit 2 ;;
esac
`,
);
// `npx serverless deploy`: each call written down; the Nth exits with the Nth code of FAKE_DEPLOY_EXITS.
writeFileSync(
  join(bin, "npx"),
  `#!/usr/bin/env bash
echo "npx $*" >> "$FAKE_LOG"
n=$(grep -c "^npx" "$FAKE_LOG")
codes=($FAKE_DEPLOY_EXITS)
exit "\${codes[$((n - 1))]:-0}"
`,
);
chmodSync(join(bin, "aws"), 0o755);
chmodSync(join(bin, "npx"), 0o755);

const IMAGE = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/tetik:abc1234";

interface Account {
  status: string;
  database?: string;
  concurrency: number;
  deployExits?: number[];
}

/** Runs infra/deploy.sh against the stand-ins: its exit code, what it said, and the commands it ran. */
async function deploy(account: Account) {
  const log = join(bin, `log-${Math.random().toString(36).slice(2)}`);
  writeFileSync(log, "");
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    FAKE_LOG: log,
    FAKE_STATUS: account.status,
    FAKE_DATABASE: account.database ?? "",
    FAKE_CONCURRENCY: String(account.concurrency),
    FAKE_DEPLOY_EXITS: (account.deployExits ?? []).join(" "),
  };
  const args = ["infra/deploy.sh", "prod", "eu-central-1", "vpc-0abc", "subnet-0a1,subnet-0b2", IMAGE, "--verbose"];
  const { code, stderr } = await promisify(execFile)("bash", args, { env, timeout: 30_000 }).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
  const commands = readFileSync(log, "utf8").trim().split("\n");
  return { code, said: stderr, deploys: commands.filter((c) => c.startsWith("npx ")) };
}

const ids = `--param=vpcId=vpc-0abc --param=privateSubnetIds=subnet-0a1,subnet-0b2 --param=workerImage=${IMAGE}`;

describe("infra/deploy.sh", () => {
  it(
    "deploys a new stack without deletion protection, then again with it once it is up; " +
      "warns of a Lambda quota a new account starts with",
    async () => {
      const run = await deploy({ status: "NONE", concurrency: 10 });
      expect(run.code).toBe(0);
      expect(run.deploys).toEqual([
        `npx serverless deploy --stage prod --region eu-central-1 ${ids} --param=databaseProtection=false --verbose`,
        `npx serverless deploy --stage prod --region eu-central-1 ${ids} --verbose`,
      ]);
      expect(run.said).toContain("may run 10 Lambda functions at once");
      expect(run.said).toContain("--quota-code L-B99A9384");
    },
  );

  it("deploys a stack that is up once, protected, and says nothing of a quota that is large enough", async () => {
    const run = await deploy({ status: "UPDATE_COMPLETE", database: "tetik-prod-database-1a2b", concurrency: 1000 });
    expect(run.code).toBe(0);
    expect(run.deploys).toEqual([`npx serverless deploy --stage prod --region eu-central-1 ${ids} --verbose`]);
    expect(run.said).not.toContain("quota");
  });

  it("deploys as a first deploy while no deploy got through (serverless's own stack only)", async () => {
    const run = await deploy({ status: "UPDATE_ROLLBACK_COMPLETE", concurrency: 1000 });
    expect(run.deploys[0]).toContain("--param=databaseProtection=false");
    expect(run.deploys).toHaveLength(2);
  });

  it("stops after a failed first deploy, with the command that says why, and protects nothing", async () => {
    const run = await deploy({ status: "NONE", concurrency: 1000, deployExits: [1] });
    expect(run.code).toBe(1);
    expect(run.deploys).toHaveLength(1);
    expect(run.said).toContain("the first deploy failed and rolled back what it made");
    expect(run.said).toContain(
      "aws cloudformation describe-stack-events --region eu-central-1 --stack-name tetik-prod",
    );
  });

  it("refuses to deploy over a stack whose creation failed, and says how to clear it", async () => {
    const run = await deploy({ status: "ROLLBACK_COMPLETE", concurrency: 1000 });
    expect(run.code).toBe(1);
    expect(run.deploys).toEqual([]);
    expect(run.said).toContain("aws cloudformation delete-stack --region eu-central-1 --stack-name tetik-prod");
  });
});

describe("infra/run-migrations.sh", () => {
  /** Runs it against the stand-ins with `args`: its exit code, what it said, and the run-task call. */
  async function runMigrations(args: string[], exitCode: number) {
    const log = join(bin, `log-${Math.random().toString(36).slice(2)}`);
    writeFileSync(log, "");
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_LOG: log, FAKE_EXIT_CODE: String(exitCode) };
    const { code, out } = await promisify(execFile)(
      "bash",
      ["infra/run-migrations.sh", "prod", "eu-central-1", ...args],
      {
        env,
        timeout: 30_000,
      },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        out: error.stdout + error.stderr,
      }),
    );
    const runTask = readFileSync(log, "utf8")
      .split("\n")
      .find((c) => c.startsWith("aws ecs run-task"));
    return { code, out, runTask: runTask ?? "" };
  }

  it("runs the stack's migration task in its subnets as the worker's security group, and waits for it", async () => {
    const run = await runMigrations([], 0);
    expect(run.code).toBe(0);
    expect(run.runTask).toContain("--cluster WorkerClusterName-value --task-definition MigrateTaskDefinitionArn-value");
    expect(run.runTask).toContain(
      "awsvpcConfiguration={subnets=[PrivateSubnetIds-value],securityGroups=[WorkerSecurityGroupId-value],",
    );
    expect(run.runTask).not.toContain("--overrides");
    expect(run.out).toContain("run-migrations: done");
  });

  it("runs `migrate resolve` in the task when asked, and fails with the task's reason", async () => {
    const run = await runMigrations(["resolve", "--rolled-back", "20270101000000_index"], 1);
    expect(run.code).toBe(1);
    const overrides = JSON.parse(/--overrides (\{.*\}) --network/.exec(run.runTask)![1]!);
    expect(overrides).toEqual({
      containerOverrides: [
        { name: "migrate", command: ["node", "dist/migrate.mjs", "resolve", "--rolled-back", "20270101000000_index"] },
      ],
    });
    expect(run.out).toContain("the task failed (exit 1: Essential container in task exited)");
  });

  it("refuses an argument that is not a migration name or a flag", async () => {
    const run = await runMigrations(["resolve", '--applied", "x'], 0);
    expect(run.code).toBe(2);
    expect(run.runTask).toBe("");
  });
});
