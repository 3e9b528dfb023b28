// The collections API's writes, group-committed as events are (see ingest-events.ts): the writes of
// requests that arrive together share one transaction, one statement per kind of write, one INSERT of
// their events and one enqueue; each record still commits with the event that reports it, and each
// request is answered only once its own write is committed. A flush that fails for one request's sake is
// written again request by request (the batcher's retryAlone), so it fails no other.
import { createBatcher } from "../../platform/batcher.ts";
import { isNotAnOutage } from "../../platform/dependency-errors.ts";
import type { CoreDeps as Deps } from "../../platform/core-deps.ts";
import { fromPg, transaction } from "../../platform/sql.ts";
import { AppError, notFound } from "../errors.ts";
import { enqueueEvents } from "../events/ingest-events.ts";
import {
  deleteRecordsByKey,
  insertRecords,
  insertRecordsWithEvents,
  insertWriteEvents,
  patchRecords,
  recordKey,
  type RecordKey,
  type RecordRow,
  type RecordWrite,
} from "./record-writes.ts";

type Data = Record<string, unknown>;

type FlushDeps = Pick<Deps, "pool" | "queue" | "log" | "now">;
type Write = RecordKey & ({ kind: "create"; data: Data } | { kind: "patch"; patch: Data } | { kind: "delete" });

export interface Written {
  /** The record after the write (null once deleted). */
  record: RecordRow | null;
  /** The event reporting it; null when nothing changed. */
  eventId: string | null;
}

export interface RecordWriter {
  create(collection: string, id: string, data: Data): Promise<Written>;
  /** Merges `patch` into the record's data; a patch that changes nothing writes nothing and emits nothing. */
  patch(collection: string, id: string, patch: Data): Promise<Written>;
  remove(collection: string, id: string): Promise<Written>;
}

/**
 * Writes of one record in one flush must happen in the order they arrived, and one statement can change
 * a row only once: each write goes into the first round after the last one that touched its record.
 */
function rounds(writes: Write[]): number[][] {
  const result: number[][] = [];
  const lastRound = new Map<string, number>();
  writes.forEach((write, i) => {
    const key = recordKey(write);
    const round = (lastRound.get(key) ?? -1) + 1;
    lastRound.set(key, round);
    (result[round] ??= []).push(i);
  });
  return result;
}

const conflict = (w: RecordKey) => new AppError("conflict", `record ${w.id} already exists in ${w.collection}`);

/** The common flush, only creates of distinct records: one statement writes them and their events. */
async function flushCreates(deps: FlushDeps, writes: Array<Extract<Write, { kind: "create" }>>): Promise<Array<Written | AppError>> {
  const made = await insertRecordsWithEvents(fromPg(deps.pool), writes, deps.now());
  const answers = writes.map((w) => {
    const done = made.get(recordKey(w));
    return done ? { record: done.write.record, eventId: done.eventId } : conflict(w);
  });
  await enqueueEvents(deps, [...made.values()].map((m) => m.eventId));
  return answers;
}

async function flush(deps: FlushDeps, writes: Write[]): Promise<Array<Written | AppError>> {
  const creates = writes.filter((w): w is Extract<Write, { kind: "create" }> => w.kind === "create");
  if (creates.length === writes.length && new Set(writes.map(recordKey)).size === writes.length) return flushCreates(deps, creates);
  const now = deps.now();
  const answers: Array<Written | AppError> = [];
  const made: Array<{ index: number; write: RecordWrite }> = [];
  const eventIds = await transaction(deps.pool, async (q) => {
    for (const round of rounds(writes)) {
      const of = <K extends Write["kind"]>(kind: K) => round.map((i) => writes[i]!).filter((w): w is Extract<Write, { kind: K }> => w.kind === kind);
      const created = await insertRecords(q, of("create"), now);
      const patched = await patchRecords(q, of("patch"), now);
      const deleted = await deleteRecordsByKey(q, of("delete"), now);
      for (const i of round) {
        const w = writes[i]!;
        const key = recordKey(w);
        const missing = () => notFound(`record in ${w.collection}`, w.id);
        if (w.kind === "create") {
          const write = created.get(key);
          answers[i] = write ? { record: write.record, eventId: null } : conflict(w);
          if (write) made.push({ index: i, write });
        } else if (w.kind === "patch") {
          const outcome = patched.get(key);
          if (!outcome) answers[i] = missing();
          else if ("unchanged" in outcome) answers[i] = { record: outcome.unchanged, eventId: null };
          else {
            answers[i] = { record: outcome.write.record, eventId: null };
            made.push({ index: i, write: outcome.write });
          }
        } else {
          const write = deleted.get(key);
          answers[i] = write ? { record: null, eventId: null } : missing();
          if (write) made.push({ index: i, write });
        }
      }
    }
    return insertWriteEvents(q, made.map((m) => m.write), now);
  });
  made.forEach(({ index }, n) => ((answers[index] as Written).eventId = eventIds[n]!));
  await enqueueEvents(deps, eventIds);
  return answers;
}

/** The record writes of one process: concurrent requests share a commit and an enqueue. */
export function createRecordWriter(deps: FlushDeps): RecordWriter {
  const batcher = createBatcher<Write, Written | AppError>((writes) => flush(deps, writes), { maxSize: 100, retryAlone: isNotAnOutage });
  const write = async (w: Write) => {
    const answer = await batcher.add(w);
    if (answer instanceof AppError) throw answer;
    return answer;
  };
  return {
    create: (collection, id, data) => write({ kind: "create", collection, id, data }),
    patch: (collection, id, patch) => write({ kind: "patch", collection, id, patch }),
    remove: (collection, id) => write({ kind: "delete", collection, id }),
  };
}
