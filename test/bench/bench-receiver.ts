// The benchmark's receiver: answers 200 at once and notes, per record id, when each delivery arrived.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface BenchReceiver {
  url: string;
  /** record id -> arrival times (performance.now()) of its deliveries */
  arrivals: Map<string, number[]>;
  deliveries(): number;
  reset(): void;
  close(): Promise<void>;
}

const RECORD_ID = /"recordId":"([^"]+)"/;

/** `delayMs` makes the receiver slow (answering after that long), as real endpoints are. */
export async function startBenchReceiver(delayMs = 0): Promise<BenchReceiver> {
  const arrivals = new Map<string, number[]>();
  let count = 0;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const at = performance.now();
      const id = RECORD_ID.exec(body)?.[1];
      if (id) {
        const list = arrivals.get(id);
        if (list) list.push(at);
        else arrivals.set(id, [at]);
        count++;
      }
      const answer = () => {
        res.writeHead(200, { "content-length": "2" });
        res.end("ok");
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.maxConnections = 10_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    arrivals,
    deliveries: () => count,
    reset: () => {
      arrivals.clear();
      count = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
