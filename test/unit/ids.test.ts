import { describe, expect, it } from "vitest";
import { newId } from "../../functions/platform/ids.ts";

describe("ids", () => {
  it("are a prefix and a UUIDv7 in hex, unique, and sort in the order they were made", () => {
    const ids = Array.from({ length: 5000 }, () => newId("evt"));
    expect(ids[0]).toMatch(/^evt_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The time part is the clock's: within a second of now.
    const msecs = parseInt(ids[0]!.slice(4, 16), 16);
    expect(Math.abs(msecs - Date.now())).toBeLessThan(1000);
  });
});
