// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub strings such as "${DatabaseProxy.Endpoint}"
// What each function may read, from one table: the secrets it is told about (AWS_SECRETS, read when it runs:
// functions/platform/aws-secrets.ts) and its own IAM role, which may read those secrets and nothing else.
// A function missing from the table stops `serverless package`, so a new one cannot fall back to more.
//   environment.<function>  (serverless.yml, functions.<name>.environment): nothing locally (offline reads
//                           the environment it runs in), in AWS AWS_SECRETS and, for migrate, the master URL
//   roles                   (serverless.yml, resources): <Name>FunctionRole for each function

const { normalizedName } = require("./names.cjs");
const { queueSecrets } = require("./environment.cjs");

// The secrets of the stack (infra/aws/data-stores.yml), by the variable a function reads each into.
const appDatabase = { DATABASE_PASSWORD: "AppDatabaseSecret#password" };
const apiKey = { API_KEY: "ApiKeySecret#apiKey" };
// Only what stores or signs with webhook secrets gets the key that seals them.
const secretsKey = {
  SECRETS_KEY: "SecretsKeySecret#secretsKey",
  SECRETS_KEY_PREVIOUS: "SecretsKeyPreviousSecret#previous",
};

const SECRETS = {
  definitions: { ...appDatabase, ...apiKey },
  events: { ...appDatabase, ...apiKey },
  collections: { ...appDatabase, ...apiKey },
  // API keys and the audit trail.
  access: { ...appDatabase, ...apiKey },
  // GET /health is open; GET /metrics takes the API key.
  health: { ...appDatabase, ...apiKey },
  webhooks: { ...appDatabase, ...apiKey, ...secretsKey },
  webhookTesting: { ...appDatabase, ...apiKey, ...secretsKey },
  // Rotates secrets and sends test deliveries.
  dashboard: { ...appDatabase, ...apiKey, ...secretsKey },
  // The OpenAPI document and its page: no database, no secret.
  docs: {},
  sweep: { ...appDatabase },
  // The master user runs the migrations and gives the app role its password.
  migrate: { DATABASE_PASSWORD: "DatabaseSecret#password", APP_DATABASE_PASSWORD: "AppDatabaseSecret#password" },
};

/** The functions that add to the queue or read it: they also get the queue's secret, if it has one. */
const USES_QUEUE = new Set([
  "access",
  "definitions",
  "events",
  "collections",
  "health",
  "webhooks",
  "webhookTesting",
  "dashboard",
  "sweep",
]);

/** What else a function may do in AWS, as IAM statements. */
const EXTRA_STATEMENTS = {
  // The sweep reports SweepRuns and DueJobs (functions/sweep/handler.ts), into tetik's namespace only.
  sweep: (namespace) => [
    {
      Effect: "Allow",
      Action: "cloudwatch:PutMetricData",
      Resource: "*",
      Condition: { StringEquals: { "cloudwatch:namespace": namespace } },
    },
  ],
};

/** The secrets of function `name`; a function missing from the table stops the packaging. */
const known = (name, queue) => {
  if (!(name in SECRETS)) throw new Error(`infra/aws/function-access.cjs has no entry for the function "${name}"`);
  return { ...SECRETS[name], ...(USES_QUEUE.has(name) ? queue : {}) };
};

/** "DATABASE_PASSWORD=${AppDatabaseSecret}#password,...", for Fn::Sub. */
const awsSecrets = (secrets) =>
  Object.entries(secrets)
    .map(([variable, where]) => {
      const [secret, key] = where.split("#");
      return `${variable}=\${${secret}}#${key}`;
    })
    .join(",");

module.exports.environment = async ({ resolveVariable }) => {
  const local = (await resolveVariable("sls:stage")) === "local";
  const environment = {};
  const queue = local ? {} : await queueSecrets(resolveVariable);
  for (const name of Object.keys(SECRETS)) {
    const secrets = known(name, queue);
    environment[name] = {};
    if (local) continue;
    if (Object.keys(secrets).length) environment[name].AWS_SECRETS = { "Fn::Sub": awsSecrets(secrets) };
  }
  if (!local)
    environment.migrate.DATABASE_URL = {
      "Fn::Sub": "postgresql://tetik@${DatabaseProxy.Endpoint}:5432/tetik?sslmode=verify-full",
    };
  return environment;
};

module.exports.roles = async ({ resolveConfigurationProperty, resolveVariable }) => {
  const functions = await resolveConfigurationProperty(["functions"]);
  const service = await resolveVariable("self:service");
  const stage = await resolveVariable("sls:stage");
  const namespace = `${service}/${stage}`;
  const queue = await queueSecrets(resolveVariable);
  const Resources = {};
  for (const [name, fn] of Object.entries(functions)) {
    const secrets = [...new Set(Object.values(known(name, queue)).map((where) => where.split("#")[0]))];
    const logGroup =
      "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" +
      `/aws/lambda/${service}-${stage}-${name}`;
    const statements = [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: { "Fn::Sub": `${logGroup}:*` },
      },
      ...(secrets.length
        ? [{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secrets.map((s) => ({ Ref: s })) }]
        : []),
      ...(EXTRA_STATEMENTS[name]?.(namespace) ?? []),
    ];
    Resources[`${normalizedName(name)}FunctionRole`] = {
      Type: "AWS::IAM::Role",
      Properties: {
        AssumeRolePolicyDocument: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
        },
        // A function in the VPC makes and removes its network interfaces (the docs function is outside it).
        ...(fn.vpc === null
          ? {}
          : {
              ManagedPolicyArns: [
                { "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaENIManagementAccess" },
              ],
            }),
        Policies: [
          { PolicyName: `${name}-function`, PolicyDocument: { Version: "2012-10-17", Statement: statements } },
        ],
      },
    };
  }
  return { Resources };
};
