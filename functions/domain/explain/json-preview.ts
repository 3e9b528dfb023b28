// JSON text of a value that stops once it is long enough to show: explanations quote values from events
// of up to 1 MiB, and JSON.stringify would write all of it to keep 200 characters. Each value written is
// charged to the explanation's meter, so quoting counts against the same budget as evaluating.
import type { Meter } from "../conditions/evaluate.ts";
import { charge } from "../conditions/evaluate.ts";

export interface JsonPreview {
  /** At most `maxChars` characters of the value's JSON text. */
  text: string;
  /** The whole JSON text fits in `maxChars`. */
  complete: boolean;
}

class Full extends Error {}

export function jsonPreview(value: unknown, maxChars: number, m: Meter): JsonPreview {
  let text = "";
  const write = (part: string) => {
    text += part;
    if (text.length > maxChars) throw new Full();
  };
  const visit = (v: unknown) => {
    charge(m, 1);
    if (typeof v === "string") return write(JSON.stringify(v.length > maxChars ? v.slice(0, maxChars + 1) : v));
    if (v === null || typeof v !== "object") return write(JSON.stringify(v) ?? "null");
    if (Array.isArray(v)) {
      write("[");
      v.forEach((element, i) => {
        if (i > 0) write(",");
        visit(element === undefined ? null : element);
      });
      return write("]");
    }
    write("{");
    let first = true;
    for (const key in v) {
      if (!Object.hasOwn(v, key)) continue;
      const field = (v as Record<string, unknown>)[key];
      if (field === undefined) continue;
      if (!first) write(",");
      first = false;
      write(`${JSON.stringify(key)}:`);
      visit(field);
    }
    write("}");
  };
  try {
    visit(value);
    return { text, complete: true };
  } catch (error) {
    if (!(error instanceof Full)) throw error;
    return { text: text.slice(0, maxChars), complete: false };
  }
}
