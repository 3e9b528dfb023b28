// Every bound a request can hit, in one place: the README's "Limits" section lists these same values.
// A request past one is refused with a 400 that names it (413 for the body size), never a 5xx.

const KiB = 1024;
const MiB = 1024 * KiB;

export const LIMITS = {
  /** A request body. */
  bodyBytes: 1 * MiB,
  /** Arrays and objects nested in one request body (JSON.stringify and Postgres recurse per level). */
  jsonDepth: 64,
  /** Dates tetik accepts (occurredAt, since, until): four-digit years, after conversion to UTC. */
  earliestDate: "0001-01-01T00:00:00.000Z",
  latestDate: "9999-12-31T23:59:59.999Z",
  /** An Idempotency-Key header: printable ASCII. */
  idempotencyKeyLength: 255,

  /** A condition or filter, as JSON. */
  conditionBytes: 64 * KiB,
  /** Query objects nested in a condition ($and, $or, $elemMatch, ...). */
  conditionDepth: 16,
  /** Fields and operators in one condition, all levels counted. */
  conditionClauses: 200,
  /** Values in one $in, $nin or $all. */
  conditionListItems: 1000,
  /** Values in all the lists of one condition together (each becomes a SQL parameter in a filter). */
  conditionListItemsTotal: 5000,
  /**
   * Steps (values visited, values compared) one condition may take against one event. Past it the
   * definition's actions fail with `condition_too_costly` instead of holding up the worker.
   */
  conditionSteps: 100_000,

  /** A webhook's payload template, a trigger's data or filter template, as JSON. */
  templateBytes: 64 * KiB,
  /**
   * What one template may render to for one event (a webhook's body or headers, a trigger's data or filter),
   * counted while it renders: twice the largest event, so `{{data}}` and `{{previous}}` always fit, but a
   * template repeating `{{data}}` stops early. Past it the action fails with `rendered_too_large`, not retried.
   */
  renderedBytes: 2 * MiB,
  /** Webhooks and triggers of one definition (each). */
  targetsPerDefinition: 100,
  /** Custom headers of one webhook, `headers` and `secretHeaders` together. */
  webhookHeaders: 50,
  /** Characters in one custom header value, plain or secret. */
  headerValueChars: 4096,

  /** Event and record data a list page carries before it is cut short (nextCursor continues it). */
  pageBytes: 4 * MiB,

  /** Tries of one event or action that ended in an error or a crash before it is failed for good. */
  processingTries: 10,

  /** Wrong API keys at the dashboard's sign-in per window: from one client address (an IPv6 /64), and from all. */
  signInTriesPerAddress: 10,
  signInTriesOverall: 100,
  signInWindowMs: 60_000,
  /** Dashboard sessions open at once: past it, signing in ends the session closest to its expiry. */
  dashboardSessions: 1000,

  /** The Node server (`npm run serve`, the container): time to receive headers, and a whole request. */
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1000,
} as const;

/** Bytes as people read them ("64 KiB"). */
export function formatBytes(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`;
}

/** Why a JSON value is too large, or undefined. */
export function jsonSizeProblem(value: unknown, limit: number): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? "");
  return bytes > limit ? `is ${bytes} bytes of JSON; at most ${formatBytes(limit)}` : undefined;
}
  /**
   * While the server holds nine tenths of maxConnections, a connection that has not sent a whole request's
   * headers within this long is closed (and keep-alive connections idle between requests), oldest first.
   */
  silentConnectionMs: 1000,
