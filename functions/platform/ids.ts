// Ids are a type prefix and a UUIDv7: readable in logs, sortable by creation time (so cursors are ids).
import { createHash, randomFillSync } from "node:crypto";
import { v7 as uuidv7 } from "uuid";

export type IdPrefix = "def" | "trg" | "whk" | "evt" | "act" | "att" | "rec" | "key" | "aud";

// Random bytes are drawn 4 KiB at a time: one call into the system's generator per 256 ids instead of one
// per id (which the bench showed as 6% of the API's and the worker's CPU).
const pool = Buffer.alloc(16 * 256);
let taken = pool.length;
function random16(): Uint8Array {
  if (taken === pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const start = taken;
  taken += 16;
  return pool.subarray(start, taken);
}

// Given its own random bytes, uuid's v7 leaves the clock and sequence to the caller: kept here as uuid
// keeps them, so ids made in the same millisecond still sort in the order they were made.
const clock = { msecs: -Infinity, seq: 0 };
const bytes = Buffer.alloc(16);

export function newId(prefix: IdPrefix): string {
  const random = random16();
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  uuidv7({ random, msecs: clock.msecs, seq: clock.seq }, bytes, 0);
  return `${prefix}_${bytes.toString("hex")}`;
}

/**
 * An id that is a function of `key`, for what must keep one id however often it is made: an event's
 * action for one target is one action, and its id is the webhook-id receivers deduplicate on, also when a
 * worker died and another delivers it again. Its time part is that of `timeOf` (an id from newId), so it
 * sorts with what it belongs to.
 */
export function derivedId(prefix: IdPrefix, timeOf: string, key: string): string {
  const time = timeOf.slice(timeOf.indexOf("_") + 1, timeOf.indexOf("_") + 13);
  return `${prefix}_${time}${createHash("sha256")
    .update(key)
    .digest("hex")
    .slice(0, 32 - time.length)}`;
}

/** The smallest id of a kind made at or after `time`: time ranges become ranges of ids (of the primary key). */
export function firstIdAt(prefix: IdPrefix, time: Date): string {
  return `${prefix}_${time.getTime().toString(16).padStart(12, "0")}`;
}

/** When an id from newId was made (its UUIDv7's first 48 bits, in ms): an event's arrival, for its id. */
export function idTime(id: string): Date {
  const start = id.indexOf("_") + 1;
  return new Date(Number.parseInt(id.slice(start, start + 12), 16));
}
