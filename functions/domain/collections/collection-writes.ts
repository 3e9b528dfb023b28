// The collections API's writes, group-committed as events are (see ingest-events.ts): the writes of
// requests that arrive together are written with one statement per kind (creates, patches, deletes), each
// writing the records and the events that report them at once, so each record commits with its event;
// their events share one enqueue. Each request is answered once its own write is committed. A flush is
// all or nothing (one statement, or a transaction when it needs more), so one that fails for one
// request's sake can be written again in halves (the batcher's retryAlone), failing no other.
import { createBatcher } from "../../platform/batcher.ts";
import type { CoreDeps } from "../../platform/core-deps.ts";
import { isNotAnOutage } from "../../platform/dependency-errors.ts";
import { newId } from "../../platform/ids.ts";
import { fromPg, transaction, type Queryable } from "../../platform/sql.ts";
import { AppError, notFound } from "../errors.ts";
import { enqueueEvents } from "../events/ingest-events.ts";
import {
  createRecordsWithEvents,
  deleteRecordsWithEvents,
  patchRecordsWithEvents,
  recordKey,
  type RecordKey,
  type WriteDone,
} from "./record-statements.ts";

type Data = Record<string, unknown>;
type FlushDeps = Pick<CoreDeps, "pool" | "queue" | "log" | "now">;
type Write = RecordKey & ({ kind: "create"; data: Data } | { kind: "patch"; patch: Data } | { kind: "delete" });

export interface RecordWriter {
  /** Creates a record (with a new id unless one is given). */
  create(collection: string, id: string | undefined, data: Data): Promise<WriteDone>;
  /**
   * Merges `patch` into the record's data; a patch that changes nothing writes nothing and emits nothing, one
   * that would leave the record past LIMITS.recordBytes is refused (record_too_large) and changes nothing.
   */
  patch(collection: string, id: string, patch: Data): Promise<WriteDone>;
  remove(collection: string, id: string): Promise<WriteDone>;
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
    const indexes = result[round] ?? [];
    result[round] = indexes;
    indexes.push(i);
  });
  return result;
}

/** Why a write did not happen: the record's id is taken (a create), or there is no such record. */
const refusal = (w: Write) =>
  w.kind === "create"
    ? new AppError("conflict", `record ${w.id} already exists in ${w.collection}`)
    : notFound(`record in ${w.collection}`, w.id);

/** Writes the rounds one after another on `q`; answers each write's outcome. */
async function writeRounds(
  q: Queryable,
  writes: Write[],
  plan: number[][],
  now: Date,
): Promise<Array<WriteDone | AppError>> {
  const answers: Array<WriteDone | AppError> = [];
  for (const round of plan) {
    const of = <K extends Write["kind"]>(kind: K) =>
      round.map((i) => writes[i]!).filter((w): w is Extract<Write, { kind: K }> => w.kind === kind);
    const done = {
      create: await createRecordsWithEvents(q, of("create"), now),
      patch: await patchRecordsWithEvents(q, of("patch"), now),
      delete: await deleteRecordsWithEvents(q, of("delete"), now),
    };
    for (const i of round) answers[i] = done[writes[i]!.kind].get(recordKey(writes[i]!)) ?? refusal(writes[i]!);
  }
  return answers;
}

async function flush(deps: FlushDeps, writes: Write[]): Promise<Array<WriteDone | AppError>> {
  const plan = rounds(writes);
  const now = deps.now();
  // One statement (the common flush: writes of one kind to distinct records) is atomic by itself; more
  // share a transaction, so that a flush that fails leaves nothing behind to be written twice when the
  // batcher writes it again in halves.
  const oneStatement = plan.length === 1 && new Set(writes.map((w) => w.kind)).size === 1;
  const answers = oneStatement
    ? await writeRounds(fromPg(deps.pool), writes, plan, now)
    : await transaction(deps.pool, (q) => writeRounds(q, writes, plan, now));
  await enqueueEvents(
    deps,
    answers.flatMap((a) => (a instanceof AppError || a.eventId === null ? [] : [a.eventId])),
  );
  return answers;
}

/** The record writes of one process: concurrent requests share statements and an enqueue. */
export function createRecordWriter(deps: FlushDeps): RecordWriter {
  const batcher = createBatcher<Write, WriteDone | AppError>((writes) => flush(deps, writes), {
    maxSize: 100,
    retryAlone: isNotAnOutage,
  });
  const write = async (w: Write) => {
    const answer = await batcher.add(w);
    if (answer instanceof AppError) throw answer;
    return answer;
  };
  return {
    create: (collection, id, data) => write({ kind: "create", collection, id: id ?? newId("rec"), data }),
    patch: (collection, id, patch) => write({ kind: "patch", collection, id, patch }),
    remove: (collection, id) => write({ kind: "delete", collection, id }),
  };
}
