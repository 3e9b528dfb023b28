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
  /**
   * Steps the conditions of all the definitions of an event's collection may take together for one event
   * (about 50 ms of the worker's time at the costliest): past it, the definitions not yet decided fail with
   * `condition_too_costly`, so a collection with many costly definitions cannot hold up other events.
   */
  eventConditionSteps: 1_000_000,
  /**
   * Steps one explanation or dry run may take for all its clauses, the values it reads at their paths and
   * the values it quotes: past it, what is left says "undecided" or "not read".
   */
  explanationSteps: 1_000_000,
  /** Definitions one explanation or dry run explains clause by clause (the rest are counted, see `omitted`). */
  explainedDefinitions: 50,
  /** What one dry run may render for all its webhooks and triggers together; the rest say `not_rendered`. */
  dryRunRenderedBytes: 8 * MiB,

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

  /**
   * A record's data as JSON, as any write leaves it (a PATCH's or a trigger's merge, a trigger's create): past
   * it the write is refused with `record_too_large` (413 from the API; a trigger's action fails, not retried).
   */
  recordBytes: 1 * MiB,
  /**
   * Events the triggers of one chain may write in all, every depth counted, for one original change (an event
   * at depth 0): TRIGGER_MAX_DEPTH bounds how deep a chain goes, this how wide. A trigger whose writes would
   * pass it fails with `chain_too_wide` and writes nothing. The default of TRIGGER_MAX_CHAIN_EVENTS.
   */
  chainEvents: 1000,

  /**
   * Event data (with their actions) and record data a list page carries before it is cut short (nextCursor
   * continues it).
   */
  pageBytes: 4 * MiB,
  /**
   * How long Postgres may work on the statement that picks a filtered list's rows (records' `?filter=`, the
   * event log's filters): past it, a 400 `filter_too_costly`. The default of LIST_QUERY_TIMEOUT_MS.
   */
  listQueryMs: 2_000,
  /**
   * Filtered lists take turns on a quarter of a process's pool; one waits this long for a turn, then answers
   * 503 with Retry-After.
   */
  listQueryWaitMs: 2_000,

  /** Tries of one event or action that ended in an error or a crash before it is failed for good. */
  processingTries: 10,

  /** Wrong API keys at the dashboard's sign-in per window: from one client address (an IPv6 /64), and from all. */
  signInTriesPerAddress: 10,
  signInTriesOverall: 100,
  signInWindowMs: 60_000,
  /** Dashboard sessions open at once: past it, signing in ends the session closest to its expiry. */
  dashboardSessions: 1000,

  /**
   * How long a process keeps what it found for an API key (and that a key is unknown): a revoked key is
   * refused everywhere within this time. Keys kept at most, per process.
   */
  keyCacheMs: 5_000,
  keyCacheEntries: 10_000,

  /** The Node server (`npm run serve`, the container): time to receive headers, and a whole request. */
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1000,
  /**
   * While the server holds nine tenths of maxConnections, a connection that has not sent a whole request's
   * headers within this long is closed (and keep-alive connections idle between requests), oldest first.
   */
  silentConnectionMs: 1000,
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
