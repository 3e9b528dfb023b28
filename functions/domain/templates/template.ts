// Templates: `{{ path }}` placeholders in any string of a JSON value, resolved against a context object.
// A string that is exactly one placeholder keeps the value's JSON type; otherwise values are interpolated
// as text. Paths are looked up as data, never evaluated, so no template can run code.
import { formatBytes, LIMITS } from "../limits.ts";
import type { Problem } from "../validation.ts";

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const PATH = /^[A-Za-z_$][\w$]*(?:\.[\w$-]+|\[\d+\])*$/;

export type TemplateRoots = readonly string[];

function segments(path: string): string[] {
  return path.replace(/\[(\d+)\]/g, ".$1").split(".");
}

/** A string that is exactly one placeholder: it renders to the value's JSON type, known only then. */
export const isWholePlaceholder = (value: unknown): boolean => typeof value === "string" && WHOLE.test(value);

/** The value at `path` in `context`; undefined when any step is missing. Own properties only. */
export function lookup(context: unknown, path: string): unknown {
  let value: unknown = context;
  for (const key of segments(path)) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A template rendered past its budget for one event: stopped there, before the rest was built. */
export class RenderedTooLarge extends Error {
  readonly code = "rendered_too_large";
  constructor(readonly limit: number) {
    super(`the template renders to more than ${formatBytes(limit)} for this event (it repeats large values?)`);
    this.name = "RenderedTooLarge";
  }
}

/** Characters a render may still produce; charged as it goes, so an amplifying template stops early. */
interface Budget {
  left: number;
  readonly limit: number;
}

function charge(budget: Budget, chars: number) {
  budget.left -= chars;
  if (budget.left < 0) throw new RenderedTooLarge(budget.limit);
}

function renderString(text: string, context: unknown, budget: Budget): unknown {
  const whole = WHOLE.exec(text);
  if (whole) {
    const value = lookup(context, whole[1]!) ?? null;
    // Kept by reference here, but written out in full with the body: charged at its JSON size (a long string
    // as much as an object).
    charge(budget, JSON.stringify(value).length);
    return value;
  }
  if (!text.includes("{{")) {
    charge(budget, text.length);
    return text;
  }
  return text.replace(PLACEHOLDER, (_, path: string) => {
    const inserted = asText(lookup(context, path));
    // At the length JSON writes it: a quote or a control character takes two to six characters there.
    charge(budget, inserted.length);
    charge(budget, JSON.stringify(inserted).length - 2 - inserted.length);
    return inserted;
  });
}

function render(template: unknown, context: unknown, budget: Budget): unknown {
  if (typeof template === "string") return renderString(template, context, budget);
  if (Array.isArray(template)) return template.map((item) => render(item, context, budget));
  if (template && typeof template === "object") {
    return Object.fromEntries(
      Object.entries(template).map(([k, v]) => {
        charge(budget, k.length);
        return [k, render(v, context, budget)];
      }),
    );
  }
  return template;
}

/**
 * Renders every string (object keys stay as written) of a JSON value; throws RenderedTooLarge once the
 * result passes `limit` characters of JSON (LIMITS.renderedBytes), without building the rest.
 */
export function renderTemplate(template: unknown, context: unknown, limit: number = LIMITS.renderedBytes): unknown {
  return render(template, context, { left: limit, limit });
}

/** Problems in the placeholders of a template: bad syntax, or a path outside the allowed roots. */
export function templateProblems(template: unknown, roots: TemplateRoots, path = ""): Problem[] {
  if (typeof template === "string") {
    const problems: Problem[] = [];
    const stripped = template.replace(PLACEHOLDER, (_, inner: string) => {
      if (!PATH.test(inner)) problems.push({ path, message: `"{{${inner}}}" is not a path like {{ data.total }}` });
      else if (!roots.includes(segments(inner)[0]!)) {
        problems.push({ path, message: `"{{ ${inner} }}" must start with one of: ${roots.join(", ")}` });
      }
      return "";
    });
    if (/\{\{|\}\}/.test(stripped)) problems.push({ path, message: "unbalanced {{ or }}" });
    return problems;
  }
  if (Array.isArray(template)) return template.flatMap((item, i) => templateProblems(item, roots, `${path}[${i}]`));
  if (template && typeof template === "object") {
    return Object.entries(template).flatMap(([k, v]) => templateProblems(v, roots, path ? `${path}.${k}` : k));
  }
  return [];
}
