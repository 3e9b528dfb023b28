// The AWS endpoints tetik's AWS-only code talks to, served on 127.0.0.1: Secrets Manager's GetSecretValue
// and CloudWatch's PutMetricData (the AWS SDK is pointed here with AWS_ENDPOINT_URL_SECRETS_MANAGER and
// AWS_ENDPOINT_URL_CLOUDWATCH), and the pre-signed URLs CloudFormation gives a custom resource to PUT its
// answer to.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeAws {
  url: string;
  /** Secret id → its JSON; change it to rotate a secret. */
  secrets: Map<string, Record<string, string>>;
  /** The SecretId of every GetSecretValue call answered, in order. */
  reads: string[];
  /** The SecretId of every GetSecretValue call, answered or not (while down), in order. */
  attempts: string[];
  /** While true, Secrets Manager answers 503. */
  down: boolean;
  /** Every PutMetricData request, as the SDK sent it (AWS JSON 1.0). */
  metrics: Array<{ Namespace: string; MetricData: Array<{ MetricName: string; Value: number; Unit: string }> }>;
  /** A pre-signed response URL for a custom resource request. */
  responseUrl(name: string): string;
  /** What was PUT to the response URL `name`, parsed. */
  answers(name: string): CustomResourceAnswer[];
  close(): Promise<void>;
}

/** What a custom resource handler PUTs to CloudFormation's response URL (parsed), and its content type. */
export interface CustomResourceAnswer {
  Status: "SUCCESS" | "FAILED";
  Reason?: string;
  PhysicalResourceId: string;
  LogicalResourceId: string;
  Data?: Record<string, unknown>;
  contentType?: string;
}

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

export async function startFakeAws(): Promise<FakeAws> {
  const puts = new Map<string, CustomResourceAnswer[]>();
  const fake: Omit<FakeAws, "url" | "close"> = {
    secrets: new Map(),
    reads: [],
    attempts: [],
    down: false,
    metrics: [],
    responseUrl: (name) => `${url}/cloudformation/${name}?X-Amz-Signature=fake`,
    answers: (name) => puts.get(name) ?? [],
  };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (req.method === "PUT" && req.url?.startsWith("/cloudformation/")) {
      const name = req.url.slice("/cloudformation/".length).split("?")[0]!;
      puts.set(name, [...(puts.get(name) ?? []), { contentType: req.headers["content-type"], ...JSON.parse(body) }]);
      return res.writeHead(200).end();
    }
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(value));
    if (req.headers["x-amz-target"] === "GraniteServiceVersion20100801.PutMetricData") {
      fake.metrics.push(JSON.parse(body));
      return res.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
    }
    if (req.headers["x-amz-target"] !== "secretsmanager.GetSecretValue")
      return json(400, { __type: "UnknownOperationException" });
    const { SecretId } = JSON.parse(body) as { SecretId: string };
    fake.attempts.push(SecretId);
    if (fake.down) return json(503, { __type: "ServiceUnavailableException", message: "down for the test" });
    fake.reads.push(SecretId);
    const secret = fake.secrets.get(SecretId);
    if (!secret)
      return json(400, {
        __type: "ResourceNotFoundException",
        message: "Secrets Manager can't find the specified secret.",
      });
    return json(200, {
      ARN: SecretId,
      Name: SecretId,
      VersionId: "v1",
      SecretString: JSON.stringify(secret),
      CreatedDate: Date.now() / 1000,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as FakeAws;
}
