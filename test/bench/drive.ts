// The load driver: sends N events at a fixed concurrency, optionally paced to a rate, and notes when each
// was sent. Bounded by count; every request has a timeout.
import { Agent, request } from "undici";

export interface DriveOptions {
  events: number;
  concurrency: number;
  /** Events per second; 0 sends as fast as the system answers. */
  rate: number;
  /** Sends one event: resolves when the system accepted it. */
  send: (index: number, recordId: string) => Promise<void>;
  onProgress?: (sent: number) => void;
  /** Record ids are this prefix and the index ("r" for measured events, "w" for warm-up). */
  idPrefix?: string;
}

export interface DriveResult {
  sentAt: Map<string, number>;
  seconds: number;
  errors: number;
}

export const recordIdOf = (index: number, prefix = "r") => `${prefix}${index}`;

export async function drive({
  events,
  concurrency,
  rate,
  send,
  onProgress,
  idPrefix = "r",
}: DriveOptions): Promise<DriveResult> {
  const sentAt = new Map<string, number>();
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const lane = async () => {
    for (;;) {
      const index = next++;
      if (index >= events) return;
      if (rate > 0) {
        // Event i is due at started + i/rate: lanes wait for their slot, never send early.
        const due = started + (index * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const recordId = recordIdOf(index, idPrefix);
      sentAt.set(recordId, performance.now());
      try {
        await send(index, recordId);
      } catch {
        errors++;
      }
      if (onProgress && index % 1000 === 0) onProgress(index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { sentAt, seconds: (performance.now() - started) / 1000, errors };
}

/** A keep-alive HTTP client that sends JSON and fails on anything but 2xx. */
export function jsonPoster(origin: string, headers: Record<string, string> = {}) {
  const dispatcher = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  const client = {
    post: (path: string, body: unknown) => client.send("POST", path, body),
    async send(method: string, path: string, body: unknown) {
      const res = await request(`${origin}${path}`, {
        method: method as "POST",
        dispatcher,
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`${method} ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : null;
    },
    close: () => dispatcher.close(),
  };
  return client;
}
