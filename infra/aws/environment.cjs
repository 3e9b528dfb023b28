// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub strings such as "${DatabaseProxy.Endpoint}"
// The environment of the functions and the worker in AWS, which depends on where the queue is: the `queue`
// param (custom.aws.queue in serverless.yml), "redis" (ElastiCache, infra/aws/queue-redis.yml) or "postgres"
// (BullMQ's Postgres backend in the database, no ElastiCache, infra/aws/queue-postgres.yml).
//   functions         (serverless.yml, provider.environment): every function's variables
//   worker            (infra/aws/worker.yml): the worker container's Environment
//   workerSecrets     its Secrets, which ECS reads when a task starts
//   workerSecretArns  what the worker's execution role may read for that
//   queueSecrets      (infra/aws/function-access.cjs): the queue's secret, for the functions that use the queue

// As tetik_app, which may change rows and nothing else (the master user is for migrations). RDS Proxy requires
// TLS; its certificate is from Amazon's public CA, which Node trusts.
const PROXY_URL = "postgresql://tetik_app@${DatabaseProxy.Endpoint}:5432/tetik?sslmode=verify-full";

const QUEUES = {
  redis: {
    variables: {
      REDIS_URL: { "Fn::Sub": "rediss://${Cache.PrimaryEndPoint.Address}:${Cache.PrimaryEndPoint.Port}" },
      // A hash tag: BullMQ's keys for one queue must live in one slot of a Redis Cluster.
      QUEUE_PREFIX: "{tetik}",
    },
    secrets: { REDIS_PASSWORD: "CacheAuthSecret#token" },
    // Node's own CAs suffice (ElastiCache's certificate is from Amazon's public CA).
    functionCa: undefined,
    workerCa: undefined,
  },
  postgres: {
    variables: {
      QUEUE_BACKEND: "postgres",
      // The database itself: RDS Proxy refuses the schema the queue sets at connect (infra/aws/queue-postgres.yml).
      QUEUE_DATABASE_URL: {
        "Fn::Sub":
          "postgresql://tetik_app@${Database.Endpoint.Address}:${Database.Endpoint.Port}/tetik?sslmode=verify-full",
      },
    },
    secrets: {},
    // The database's certificate is from the RDS CA, which Node trusts only when told: Lambda's runtime has it
    // at this path, the worker's image at the next (infra/worker.Dockerfile).
    functionCa: "/var/runtime/ca-cert.pem",
    workerCa: "/app/rds-ca.pem",
  },
};

/** The queue param, checked: another value stops the packaging. */
async function queueOf(resolveVariable) {
  const queue = await resolveVariable("self:custom.aws.queue");
  if (!(queue in QUEUES)) throw new Error(`the queue param is "${queue}": it is "redis" or "postgres"`);
  return QUEUES[queue];
}

module.exports.functions = async ({ resolveVariable }) => {
  const queue = await queueOf(resolveVariable);
  return {
    LOG_LEVEL: "info",
    // No secret here: each function reads the ones it needs from Secrets Manager when it runs (AWS_SECRETS,
    // set per function by infra/aws/function-access.cjs; see functions/platform/aws-secrets.ts), and again
    // every SECRETS_REFRESH_MS, so a rotation needs no deploy.
    DATABASE_URL: { "Fn::Sub": PROXY_URL },
    ...queue.variables,
    ...(queue.functionCa ? { NODE_EXTRA_CA_CERTS: queue.functionCa } : {}),
    METRICS_NAMESPACE: await resolveVariable("self:custom.metricsNamespace"),
  };
};

module.exports.worker = async ({ resolveVariable }) => {
  const queue = await queueOf(resolveVariable);
  const variables = {
    DATABASE_URL: { "Fn::Sub": PROXY_URL },
    ...queue.variables,
    ...(queue.workerCa ? { NODE_EXTRA_CA_CERTS: queue.workerCa } : {}),
    WORKER_HEARTBEAT_FILE: "/tmp/tetik-worker-heartbeat",
    LOG_LEVEL: "info",
  };
  return Object.entries(variables).map(([Name, Value]) => ({ Name, Value }));
};

/** "Variable: Secret#field" as ECS takes it: "<secret arn>:<field>::". */
const ecsSecret = ([Name, where]) => {
  const [secret, field] = where.split("#");
  return { Name, ValueFrom: { "Fn::Sub": `\${${secret}}:${field}::` } };
};

/** The worker's secrets, the queue's (if any) after the database's. */
const workerSecrets = (queue) => ({
  DATABASE_PASSWORD: "AppDatabaseSecret#password",
  ...queue.secrets,
  SECRETS_KEY: "SecretsKeySecret#secretsKey",
  SECRETS_KEY_PREVIOUS: "SecretsKeyPreviousSecret#previous",
});

module.exports.workerSecrets = async ({ resolveVariable }) => {
  const queue = await queueOf(resolveVariable);
  return Object.entries(workerSecrets(queue)).map(ecsSecret);
};

module.exports.workerSecretArns = async ({ resolveVariable }) => {
  const queue = await queueOf(resolveVariable);
  const secrets = new Set(Object.values(workerSecrets(queue)).map((where) => where.split("#")[0]));
  return [...secrets].map((secret) => ({ Ref: secret }));
};

module.exports.queueSecrets = async (resolveVariable) => (await queueOf(resolveVariable)).secrets;
