// A real HTTP server on 127.0.0.1 that records what webhooks deliver and answers as each test asks.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  at: number;
}

export interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer only once this settles (a gate the test opens). */
  until?: Promise<unknown>;
}

export type Responder = (request: ReceivedRequest, index: number) => Reply;

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests to one path. */
  at(path: string): ReceivedRequest[];
  respond(responder: Responder): void;
  close(): Promise<void>;
}

/** `port` 0 picks a free one; a given port lets a test bring a receiver "back" where it was. */
export async function startReceiver(
  responder: Responder = () => ({ status: 200, body: "ok" }),
  port = 0,
): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let current = responder;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {}
      const request = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body,
        json,
        at: Date.now(),
      };
      const index = requests.push(request) - 1;
      const reply = current(request, index);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { "content-type": "text/plain", ...reply.headers });
        res.end(reply.body ?? "");
      };
      if (reply.until) void reply.until.then(send, send);
      else if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    at: (path) => requests.filter((r) => r.path === path),
    respond: (next) => {
      current = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
