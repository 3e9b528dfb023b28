// The alarms an operator needs from day one, all sent to one SNS topic (AlarmTopicArn in the stack's
// outputs; `--param=alarmEmail=...` subscribes an address). Written as code, not YAML, because two of them
// cover every function of serverless.yml, whichever functions it has. Each threshold is in README,
// "Alarms", with what to do when it fires.

const { normalizedName } = require("./names.cjs");

/** The logical id serverless gives a function ("webhookTesting" -> "WebhookTestingLambdaFunction"). */
const functionId = (name) => `${normalizedName(name)}LambdaFunction`;

/** CloudWatch takes at most 10 metrics in one alarm's math. */
const METRICS_PER_ALARM = 10;

const alarm = (description, properties) => ({
  Type: "AWS::CloudWatch::Alarm",
  Properties: {
    AlarmDescription: description,
    AlarmActions: [{ Ref: "AlarmTopic" }],
    OKActions: [{ Ref: "AlarmTopic" }],
    TreatMissingData: "notBreaching",
    ...properties,
  },
});

/** One metric's statistic over 5 minutes: Namespace, MetricName, Dimensions and Statistic. */
const every5Minutes = (namespace, metric, dimensions, statistic) => ({
  Namespace: namespace,
  MetricName: metric,
  Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
  Statistic: statistic,
  Period: 300,
  EvaluationPeriods: 1,
});

/** `expression` over several metrics (Sum or Maximum each 5 minutes): one alarm on the result. */
const across = (expression, label, metrics) => ({
  Metrics: [
    { Id: "total", Expression: expression, Label: label, ReturnData: true },
    ...metrics.map(({ namespace, metric, dimensions, stat }, i) => ({
      Id: `m${i}`,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: namespace,
          MetricName: metric,
          Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
        },
        Period: 300,
        Stat: stat,
      },
    })),
  ],
  EvaluationPeriods: 1,
});

/** Errors and throttles of every function, summed, in alarms of at most METRICS_PER_ALARM functions. */
function functionAlarms(names) {
  const groups = [];
  for (let i = 0; i < names.length; i += METRICS_PER_ALARM) groups.push(names.slice(i, i + METRICS_PER_ALARM));
  const resources = {};
  groups.forEach((group, i) => {
    const suffix = groups.length > 1 ? String(i + 1) : "";
    const metrics = (metric) =>
      group.map((name) => ({
        namespace: "AWS/Lambda",
        metric,
        dimensions: { FunctionName: { Ref: functionId(name) } },
        stat: "Sum",
      }));
    resources[`FunctionErrorsAlarm${suffix}`] = alarm(
      `tetik: a function crashed or ran out of time (${group.join(", ")}); see its log group`,
      {
        ...across("SUM(METRICS())", "errors", metrics("Errors")),
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
      },
    );
    resources[`FunctionThrottlesAlarm${suffix}`] = alarm(
      `tetik: Lambda refused to run a function (${group.join(", ")}): the account's concurrency is used up`,
      {
        ...across("SUM(METRICS())", "throttles", metrics("Throttles")),
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
      },
    );
  });
  return resources;
}

module.exports.resources = async ({ resolveConfigurationProperty, resolveVariable }) => {
  const functions = await resolveConfigurationProperty(["functions"]);
  const email = await resolveVariable("self:custom.aws.alarmEmail");
  const connections = Number(await resolveVariable("self:custom.aws.databaseConnectionsAlarm"));
  const onRedis = (await resolveVariable("self:custom.aws.queue")) === "redis";
  const namespace = await resolveVariable("self:custom.metricsNamespace");
  const Resources = {
    AlarmTopic: { Type: "AWS::SNS::Topic", Properties: { DisplayName: "tetik alarms" } },
    ...(email
      ? {
          AlarmEmailSubscription: {
            Type: "AWS::SNS::Subscription",
            Properties: { TopicArn: { Ref: "AlarmTopic" }, Protocol: "email", Endpoint: email },
          },
        }
      : {}),

    ApiServerErrorsAlarm: alarm("tetik: the API answered more than 10 5xx in 5 minutes (503: a dependency is down)", {
      ...every5Minutes("AWS/ApiGateway", "5xx", { ApiId: { Ref: "HttpApi" } }, "Sum"),
      Threshold: 10,
      ComparisonOperator: "GreaterThanThreshold",
    }),
    ...functionAlarms(Object.keys(functions)),

    // SweepRuns is 1 per finished run, every minute: none for 5 minutes and lost work waits (GET /health
    // says "degraded" too).
    SweepNotRunningAlarm: alarm("tetik: the sweep has not finished a run for 5 minutes", {
      Namespace: namespace,
      MetricName: "SweepRuns",
      Statistic: "Sum",
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    }),
    BacklogNotDrainingAlarm: alarm("tetik: more than 10,000 jobs due for 15 minutes: the workers do not keep up", {
      Namespace: namespace,
      MetricName: "DueJobs",
      Statistic: "Minimum",
      Period: 60,
      EvaluationPeriods: 15,
      Threshold: 10_000,
      ComparisonOperator: "GreaterThanThreshold",
    }),
    // Container Insights (on for the cluster) counts the service's running tasks.
    WorkerNotRunningAlarm: alarm("tetik: no worker task has been running for 5 minutes", {
      Namespace: "ECS/ContainerInsights",
      MetricName: "RunningTaskCount",
      Dimensions: [
        { Name: "ClusterName", Value: { Ref: "WorkerCluster" } },
        { Name: "ServiceName", Value: { "Fn::GetAtt": ["WorkerService", "Name"] } },
      ],
      Statistic: "Minimum",
      Period: 60,
      EvaluationPeriods: 5,
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    }),

    DatabaseStorageLowAlarm: alarm("tetik: Postgres has less than 5 GiB free (storage autoscaling at its maximum?)", {
      ...every5Minutes("AWS/RDS", "FreeStorageSpace", { DBInstanceIdentifier: { Ref: "Database" } }, "Minimum"),
      Threshold: 5 * 1024 ** 3,
      ComparisonOperator: "LessThanThreshold",
    }),
    // Burstable classes (db.t4g) only: out of credits, the database runs at its baseline CPU.
    DatabaseCpuCreditsLowAlarm: alarm("tetik: Postgres is running out of CPU credits", {
      ...every5Minutes("AWS/RDS", "CPUCreditBalance", { DBInstanceIdentifier: { Ref: "Database" } }, "Minimum"),
      EvaluationPeriods: 3,
      Threshold: 30,
      ComparisonOperator: "LessThanThreshold",
    }),
    DatabaseConnectionsHighAlarm: alarm(`tetik: Postgres has more than ${connections} connections`, {
      ...every5Minutes("AWS/RDS", "DatabaseConnections", { DBInstanceIdentifier: { Ref: "Database" } }, "Maximum"),
      EvaluationPeriods: 2,
      Threshold: connections,
      ComparisonOperator: "GreaterThanThreshold",
    }),
    // A password in a secret that Postgres does not know (a rotation half done), or a client with none.
    DatabaseProxyAuthFailuresAlarm: alarm("tetik: RDS Proxy refused connections for their password or TLS", {
      ...every5Minutes("AWS/RDS", "ClientConnectionsSetupFailedAuth", { ProxyName: { Ref: "DatabaseProxy" } }, "Sum"),
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
    }),
  };
  // Under noeviction a full Redis refuses writes: new jobs wait in Postgres for the sweep, slowly.
  if (onRedis)
    Resources.RedisMemoryHighAlarm = alarm("tetik: Redis is more than 80% full (it refuses writes when full)", {
      ...across(
        "MAX(METRICS())",
        "memory used, % of maxmemory",
        ["001", "002"].map((node) => ({
          namespace: "AWS/ElastiCache",
          metric: "DatabaseMemoryUsagePercentage",
          dimensions: { CacheClusterId: { "Fn::Sub": `\${Cache}-${node}` } },
          stat: "Maximum",
        })),
      ),
      Threshold: 80,
      ComparisonOperator: "GreaterThanThreshold",
    });
  const Outputs = {
    AlarmTopicArn: {
      Description: "Every alarm of tetik writes here: subscribe email, chat or paging to it.",
      Value: { Ref: "AlarmTopic" },
    },
  };
  return { Resources, Outputs };
};
