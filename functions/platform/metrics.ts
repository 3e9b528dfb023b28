// Prometheus metrics (prom-client), one registry per process's dependencies. Two kinds, as the SPEC says:
// what one process sees (events it accepted, the deliveries it attempted and how long they took) is
// counted in that process; what the log and the queue know (events by status, queue counts, sweep runs)
// is read from Postgres and Redis when scraped, so any instance answers the same.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Bounded label values only: a status class, never a status code or a URL. */
export type DeliveryOutcome = "delivered" | "retrying" | "failed";

export interface Metrics {
  registry: Registry;
  eventsAccepted: Counter<"via">;
  deliveries: Counter<"outcome" | "status_class">;
  attemptDuration: Histogram<"outcome">;
  firstAttemptLatency: Histogram;
  deliveryWaits: Counter<"reason">;
  operationalEvents: Counter<"kind">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    eventsAccepted: new Counter({
      name: "tetik_events_accepted_total",
      help: "Events this process accepted and committed to the log (via: events, batch, records).",
      labelNames: ["via"],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: "tetik_deliveries_total",
      help: "Webhook delivery attempts this process made, by outcome and the receiver's status class (2xx..5xx, none).",
      labelNames: ["outcome", "status_class"],
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: "tetik_delivery_attempt_duration_seconds",
      help: "How long one delivery attempt took, request to answer (or error).",
      labelNames: ["outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    firstAttemptLatency: new Histogram({
      name: "tetik_first_attempt_latency_seconds",
      help: "From an event's arrival to its first delivery attempt's start.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    deliveryWaits: new Counter({
      name: "tetik_delivery_waits_total",
      help: "Times a delivery waited for its turn under its webhook's flow control (reason: rate, in_flight, paused).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    operationalEvents: new Counter({
      name: "tetik_operational_events_total",
      help: "Operational events (collection tetik) this process wrote, by kind (webhook.failing, ...).",
      labelNames: ["kind"],
      registers: [registry],
    }),
  };
}

export const statusClass = (status: number | null) => (status === null ? "none" : `${Math.floor(status / 100)}xx`);

/** Gauges read from Postgres and Redis at scrape time, registered on `registry`. */
export interface SystemState {
  eventsByStatus(): Promise<Record<string, number>>;
  queueJobs(): Promise<Record<string, number>>;
  sweep(): Promise<{
    runs: number;
    requeuedEvents: number;
    requeuedActions: number;
    failedEvents: number;
    prunedEvents: number;
    lastRunAt: Date | null;
  }>;
}

export function registerSystemGauges(registry: Registry, state: SystemState): void {
  if (registry.getSingleMetric("tetik_log_events")) return; // once per registry, however many apps share it
  new Gauge({
    name: "tetik_log_events",
    help:
      "Events in the log by status, read from Postgres at scrape time (completed events leave it after " +
      "LOG_RETENTION_DAYS).",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      const counts = await state.eventsByStatus().catch(() => undefined);
      if (!counts) return; // Postgres down: the series is left out; the process's own counters still answer
      for (const status of ["pending", "processing", "completed", "retrying", "failed"])
        this.set({ status }, counts[status] ?? 0);
    },
  });
  new Gauge({
    name: "tetik_queue_jobs",
    help: "Jobs in the queue by state, read from Redis at scrape time.",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const counts = await state.queueJobs().catch(() => undefined);
      if (!counts) return;
      for (const jobState of ["waiting", "active", "delayed", "failed"])
        this.set({ state: jobState }, counts[jobState] ?? 0);
    },
  });
  // The sweep's totals live in Postgres (sweep_state): right whichever Lambda instance ran each sweep.
  // One read per scrape for the three sweep series; undefined while Postgres is down (the series are left out).
  let last: Promise<Awaited<ReturnType<SystemState["sweep"]>> | undefined> | undefined;
  const once = () =>
    (last ??= state
      .sweep()
      .catch(() => undefined)
      .finally(() => setTimeout(() => (last = undefined), 0)));
  new Counter({
    name: "tetik_sweep_runs_total",
    help: "Sweep runs, read from Postgres at scrape time.",
    registers: [registry],
    async collect() {
      // Read first, then set: overlapping scrapes would otherwise add twice after both reset.
      const s = await once();
      this.reset();
      if (s) this.inc(s.runs);
    },
  });
  new Counter({
    name: "tetik_sweep_requeued_total",
    help:
      "What the sweep handed back to the queue (kind: events, actions) or gave up on (failed_events), read " +
      "from Postgres.",
    labelNames: ["kind"],
    registers: [registry],
    async collect() {
      const s = await once();
      this.reset();
      if (!s) return;
      this.inc({ kind: "events" }, s.requeuedEvents);
      this.inc({ kind: "actions" }, s.requeuedActions);
      this.inc({ kind: "failed_events" }, s.failedEvents);
    },
  });
  new Gauge({
    name: "tetik_sweep_last_run_timestamp_seconds",
    help: "When the sweep last ran (Unix seconds; 0 if never).",
    registers: [registry],
    async collect() {
      const s = await once();
      if (s) this.set(s.lastRunAt ? s.lastRunAt.getTime() / 1000 : 0);
    },
  });
}
