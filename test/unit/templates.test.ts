import { describe, expect, it } from "vitest";
import { RenderedTooLarge, renderTemplate, templateProblems } from "../../functions/domain/templates/template.ts";

const context = {
  event: { id: "evt_1", recordId: "o-1" },
  data: { total: 12.5, items: [{ sku: "a" }], ok: true, nothing: null, nested: { a: 1 } },
};
const roots = ["event", "data"];

describe("templates", () => {
  it("keeps the JSON type of a whole-string placeholder", () => {
    expect(
      renderTemplate(
        {
          t: "{{ data.total }}",
          b: "{{data.ok}}",
          n: "{{ data.nested }}",
          z: "{{ data.nothing }}",
          m: "{{ data.missing }}",
        },
        context,
      ),
    ).toEqual({
      t: 12.5,
      b: true,
      n: { a: 1 },
      z: null,
      m: null,
    });
  });

  it("interpolates placeholders inside text, objects as JSON, missing values as empty", () => {
    expect(
      renderTemplate("order {{ event.recordId }}: {{data.total}} {{ data.nested }}{{data.missing}}!", context),
    ).toBe('order o-1: 12.5 {"a":1}!');
    expect(renderTemplate(["{{ data.items[0].sku }}", 3, null, { k: "{{event.id}}" }], context)).toEqual([
      "a",
      3,
      null,
      { k: "evt_1" },
    ]);
  });

  it("looks paths up as data only: prototype and code are out of reach", () => {
    expect(renderTemplate("{{ data.constructor }}", context)).toBeNull();
    expect(renderTemplate("{{ data.__proto__ }}", context)).toBeNull();
    expect(renderTemplate("x{{ data.total.toString }}", context)).toBe("x");
  });

  it("reports bad placeholders with their path", () => {
    expect(templateProblems({ a: { b: "{{ process.env.HOME }}" } }, roots)).toEqual([
      expect.objectContaining({ path: "a.b", message: expect.stringContaining("must start with") }),
    ]);
    expect(templateProblems(["{{ data.total + 1 }}"], roots)).toEqual([
      expect.objectContaining({ path: "[0]", message: expect.stringContaining("not a path") }),
    ]);
    expect(templateProblems("{{ data.a ", roots)).toEqual([
      expect.objectContaining({ message: "unbalanced {{ or }}" }),
    ]);
    expect(templateProblems({ ok: "{{ data.items[0].sku }} and {{event.id}}" }, roots)).toEqual([]);
  });

  it("stops rendering once the result passes its budget, whole placeholders charged at their JSON size", () => {
    const big = { data: { text: "y".repeat(1_000) } };
    expect(renderTemplate({ a: "{{data}}", b: "{{ data.text }}!" }, big, 2_100)).toEqual({
      a: { text: "y".repeat(1_000) },
      b: `${"y".repeat(1_000)}!`,
    });
    let built = 0;
    const counting = {
      get data() {
        built++;
        return big.data;
      },
    };
    const many = Array.from({ length: 1_000 }, () => "{{data}}");
    expect(() => renderTemplate(many, counting, 10_000)).toThrow(RenderedTooLarge);
    // It gave up after about 10 copies, not after building 1,000.
    expect(built).toBeLessThan(15);
    expect(() => renderTemplate({ s: "x".repeat(50) }, {}, 40)).toThrow(/more than/);
    // A whole placeholder holding a long string counts its length too.
    expect(() =>
      renderTemplate(
        Array.from({ length: 20 }, () => "{{ data.text }}"),
        big,
        10_000,
      ),
    ).toThrow(RenderedTooLarge);
  });
});
