// `npm run receiver`: a webhook receiver on this machine, for trying tetik without a public endpoint. It prints
// each delivery (method, path, webhook-id, timestamp, the body pretty-printed) and, given the webhook's secret,
// checks its Standard Webhooks signature with the `standardwebhooks` package, as a consumer would: a reference
// implementation, not tetik's own signer, so a signing mistake in tetik shows here as "signature WRONG".
//   npm run receiver                                   listens on 127.0.0.1:4000, answers 200
//   npm run receiver -- --secret whsec_… --port 4001   or WEBHOOK_SECRET and PORT
//   npm run receiver -- --status 500                   answers 500, to watch tetik retry (or RECEIVER_STATUS)
import { createServer, type IncomingMessage } from "node:http";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";

/** Bodies past this many characters are cut in the output (the signature is checked on the whole body). */
const PRINT_LIMIT = 4_000;

export interface ReceiverOptions {
  port: number;
  /** The webhook's secret (`whsec_…`); without one, signatures are shown but not checked. */
  secret?: string;
  /** The status every delivery is answered with. */
  status: number;
}

/** Options from the command line, then the environment (`PORT`, `WEBHOOK_SECRET`, `RECEIVER_STATUS`; empty = unset). */
export function receiverOptions(args: string[], env: Record<string, string | undefined>): ReceiverOptions {
  const { values } = parseArgs({
    args,
    options: { port: { type: "string" }, secret: { type: "string" }, status: { type: "string" } },
  });
  const port = Number(values.port ?? (env.PORT || 4000));
  const status = Number(values.status ?? (env.RECEIVER_STATUS || 200));
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be a port number`);
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new Error(`--status must be 200 to 599`);
  return { port, secret: values.secret ?? (env.WEBHOOK_SECRET || undefined), status };
}

/** What one delivery looks like in the terminal: a header line, the body, the signature's verdict. */
export function describeDelivery(
  request: { method: string; path: string; headers: IncomingMessage["headers"]; body: string },
  verifier: Webhook | undefined,
): string {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  const id = header("webhook-id") ?? "(none)";
  const timestamp = header("webhook-timestamp");
  const seconds = Number(timestamp);
  const when = timestamp && Number.isFinite(seconds) ? ` (${new Date(seconds * 1000).toISOString()})` : "";
  return [
    `${new Date().toISOString()} ${request.method} ${request.path}`,
    `  webhook-id: ${id}   webhook-timestamp: ${timestamp ?? "(none)"}${when}`,
    indent(printable(request.body)),
    `  ${verdict(request, verifier)}`,
  ].join("\n");
}

function printable(body: string): string {
  if (!body) return "(empty body)";
  let text: string;
  try {
    text = JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    text = `(not JSON, ${Buffer.byteLength(body)} bytes) ${body}`;
  }
  return text.length > PRINT_LIMIT
    ? `${text.slice(0, PRINT_LIMIT)}\n… (${text.length - PRINT_LIMIT} more characters)`
    : text;
}

function indent(text: string): string {
  return text.replace(/^/gm, "  ");
}

function verdict(
  request: { headers: IncomingMessage["headers"]; body: string },
  verifier: Webhook | undefined,
): string {
  if (!verifier) return "signature not checked (start with --secret whsec_… or WEBHOOK_SECRET to check it)";
  const headers: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const value = request.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  try {
    verifier.verify(request.body, headers, { jsonParse: false });
    return "signature ok";
  } catch (error) {
    return `signature WRONG: ${reason((error as Error).message)}`;
  }
}

/** The package's messages, said with what to check. */
function reason(message: string): string {
  if (message === "No matching signature found")
    return "no signature in webhook-signature matches this secret (is it this webhook's current secret?)";
  if (message === "Missing required headers") return "webhook-id, webhook-timestamp or webhook-signature is missing";
  if (message.startsWith("Message timestamp"))
    return `${message.toLowerCase()} (more than 5 minutes from this machine's clock)`;
  return message;
}

/** Starts listening on 127.0.0.1; answers the address once it does. */
export async function startLocalReceiver(
  options: ReceiverOptions,
  print: (text: string) => void = console.log,
): Promise<{ url: string; close(): Promise<void> }> {
  // A secret that is not base64 fails here, at start, rather than at every delivery.
  const verifier = options.secret ? new Webhook(options.secret) : undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      print(`${describeDelivery(request, verifier)}\n  answered ${options.status}\n`);
      res.writeHead(options.status, { "content-type": "text/plain" });
      res.end(options.status < 300 ? "ok" : "answered as asked by --status");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function main() {
  const options = receiverOptions(process.argv.slice(2), process.env);
  const { url } = await startLocalReceiver(options);
  const checking = options.secret ? "checking signatures with the given secret" : "not checking signatures (no secret)";
  console.log(`receiver: listening on ${url}, answering ${options.status}, ${checking}; Ctrl-C stops it`);
  // A webhook may target any path under it; one per webhook keeps their deliveries apart in the output.
  console.log(`receiver: point a webhook at ${url}/anything (tetik needs WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(`receiver: ${error.message}`);
    process.exit(1);
  });
}
