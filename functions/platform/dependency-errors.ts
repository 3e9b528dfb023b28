// Tells a dependency that is down (answer 503, retry later) from a value the database refused (the
// request's fault: answer 400) and from a bug (answer 500, look at it).
import { isReadTimeout } from "./pool.ts";
import { TimeoutError } from "./timeout.ts";

/** Raised without trying when a dependency is known to be down, so callers do not wait on it. */
export class UnavailableError extends Error {
  constructor(what: string) {
    super(`${what} is unavailable`);
    this.name = "UnavailableError";
  }
}

const PRISMA_UNREACHABLE = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const ADAPTER_UNREACHABLE = new Set([
  "DatabaseNotReachable",
  "SocketTimeout",
  "TooManyConnections",
  "ConnectionClosed",
]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);

interface ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string; message?: string } } };
}

/** The SQLSTATE of a Postgres error, as pg reports it or as Prisma's driver adapter passes it on. */
function postgresCode(e: ErrorLike): string | undefined {
  const code = e.meta?.driverAdapterError?.cause?.code ?? e.code;
  return code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Postgres's reason when it refused a value the request carried, else undefined: a data exception
 * (class 22: a NUL byte, a number or date out of range, malformed JSON), a program limit (class 54:
 * nesting too deep, a statement too complex), or a protocol violation (08P01: more parameters than a
 * statement may have). Retrying the same input fails the same way; other requests are not affected.
 */
export function rejectedInputReason(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== "object" || depth > 4) return undefined;
  const e = error as ErrorLike;
  const code = postgresCode(e);
  if (code && (/^(22|54)/.test(code) || code === "08P01"))
    return e.meta?.driverAdapterError?.cause?.message ?? e.message ?? code;
  return rejectedInputReason(e.cause, depth + 1);
}

export function isDependencyDown(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 4) return false;
  const e = error as ErrorLike;
  if (error instanceof TimeoutError || error instanceof UnavailableError) return true;
  if (e.code && (PRISMA_UNREACHABLE.has(e.code) || NETWORK_CODES.has(e.code))) return true;
  const adapterCause = e.meta?.driverAdapterError?.cause;
  if (adapterCause?.kind && ADAPTER_UNREACHABLE.has(adapterCause.kind)) return true;
  // Postgres: 08xxx connection exceptions (but 08P01, a protocol violation such as too many parameters,
  // is the statement's fault), 57P0x shutting down / starting up, and 28P01, a password refused: in AWS a
  // rotation this process has not read yet, which it reads and retries (lambda-deps.ts).
  const pgCode = postgresCode(e);
  if (pgCode && ((/^(08|57P0)/.test(pgCode) && pgCode !== "08P01") || pgCode === "28P01")) return true;
  // pg stopped waiting for an answer (pool.ts, query_timeout): the connection or the server is stuck.
  if (isReadTimeout(error)) return true;
  if (e.name === "MaxRetriesPerRequestError") return true;
  if (e.message && /Connection is closed|Stream isn't writeable|connect ECONNREFUSED/.test(e.message)) return true;
  // pg-pool waited connectionTimeoutMillis for a free connection: every one is busy, try again shortly.
  if (e.message?.startsWith("timeout exceeded when trying to connect")) return true;
  return isDependencyDown(e.cause, depth + 1);
}

/** For group commits: a failed flush may be one item's fault unless a dependency is down (see batcher.ts). */
export const isNotAnOutage = (error: unknown) => !isDependencyDown(error);

/** An error as one line for a log entry a person reads: the database's own words when it raised it. */
export function errorReason(error: unknown): string {
  const e = error as ErrorLike | undefined;
  const text = e?.meta?.driverAdapterError?.cause?.message ?? e?.message ?? String(error);
  return text.replace(/\s+/g, " ").trim().slice(0, 1000);
}
