// Custom metrics in CloudWatch, which alarms and the worker service's scaling read (infra/aws/). The AWS
// SDK comes with the Lambda runtime; it is imported only here, only when a namespace is configured.
const CLOUDWATCH = "@aws-sdk/client-cloudwatch";

/** Puts one data point per metric, each a count, into `namespace` (one call). */
export async function putCounts(namespace: string, counts: Record<string, number>): Promise<void> {
  const { CloudWatchClient, PutMetricDataCommand } = await import(CLOUDWATCH);
  // Every wait bounded: the SDK's own defaults wait on a silent connection forever.
  const client = new CloudWatchClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
  });
  try {
    await client.send(
      new PutMetricDataCommand({
        Namespace: namespace,
        MetricData: Object.entries(counts).map(([MetricName, Value]) => ({ MetricName, Value, Unit: "Count" })),
      }),
    );
  } finally {
    client.destroy();
  }
}
