import { describe, expect, it } from "vitest";
import { derivedId, newId } from "../../functions/platform/ids.ts";

describe("ids", () => {
  it("are a prefix and a UUIDv7 in hex, unique, random past the clock, and sort in the order they were made", () => {
    const ids = Array.from({ length: 5000 }, () => newId("evt"));
    expect(ids[0]).toMatch(/^evt_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The last 12 hex digits are random bytes only: a stuck or empty random pool would repeat them.
    expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(ids.length);
    // The time part is the clock's: within a second of now.
    const msecs = parseInt(ids[0]!.slice(4, 16), 16);
    expect(Math.abs(msecs - Date.now())).toBeLessThan(1000);
  });

  it("derive the same id from the same key, with the time part of what they belong to", () => {
    const event = newId("evt");
    const a = derivedId("act", event, `${event}/webhook/whk_1`);
    expect(derivedId("act", event, `${event}/webhook/whk_1`)).toBe(a);
    expect(derivedId("act", event, `${event}/webhook/whk_2`)).not.toBe(a);
    expect(a).toMatch(/^act_[0-9a-f]{32}$/);
    expect(a.slice(4, 16)).toBe(event.slice(4, 16));
  });
});
