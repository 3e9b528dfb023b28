// Tells a dependency that is down (answer 503, retry later) from a bug (answer 500, look at it).
import { TimeoutError } from "./timeout.ts";

/** Raised without trying when a dependency is known to be down, so callers do not wait on it. */
export class UnavailableError extends Error {
  constructor(what: string) {
    super(`${what} is unavailable`);
    this.name = "UnavailableError";
  }
}

const PRISMA_UNREACHABLE = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const ADAPTER_UNREACHABLE = new Set(["DatabaseNotReachable", "SocketTimeout", "TooManyConnections", "ConnectionClosed"]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);

interface ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string } } };
}

export function isDependencyDown(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 4) return false;
  const e = error as ErrorLike;
  if (error instanceof TimeoutError || error instanceof UnavailableError) return true;
  if (e.code && (PRISMA_UNREACHABLE.has(e.code) || NETWORK_CODES.has(e.code))) return true;
  const adapterCause = e.meta?.driverAdapterError?.cause;
  if (adapterCause?.kind && ADAPTER_UNREACHABLE.has(adapterCause.kind)) return true;
  // Postgres: 08xxx connection exceptions, 57P0x shutting down / starting up.
  const pgCode = adapterCause?.code ?? e.code;
  if (pgCode && /^(08|57P0)/.test(pgCode)) return true;
  if (e.name === "MaxRetriesPerRequestError") return true;
  if (e.message && /Connection is closed|Stream isn't writeable|connect ECONNREFUSED/.test(e.message)) return true;
  return isDependencyDown(e.cause, depth + 1);
}
