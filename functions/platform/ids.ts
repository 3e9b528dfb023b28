// Ids are a type prefix and a UUIDv7: readable in logs, sortable by creation time (so cursors are ids).
import { v7 as uuidv7 } from "uuid";

export type IdPrefix = "def" | "trg" | "whk" | "evt" | "act" | "att" | "rec";

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${uuidv7().replaceAll("-", "")}`;
}
