// What Postgres and JSON cannot store faithfully is refused at the edge, so a request's fate depends on
// that request alone: a NUL in one event must not fail the shared INSERT of its neighbours.
//  - NUL (U+0000): Postgres text and jsonb cannot hold it.
//  - lone UTF-16 surrogates: not Unicode; jsonb refuses them, and they do not survive UTF-8.
//  - numbers that are not finite: JSON.parse("1e400") is Infinity, which JSON.stringify writes as null.
//  - keys named __proto__: JavaScript objects drop them silently.
//  - nesting past LIMITS.jsonDepth: JSON.stringify and Postgres recurse per level and overflow.
import { LIMITS } from "./limits.ts";
import { formatPath, type Problem } from "./validation.ts";

/** Why a string cannot be stored as it is, or undefined. */
export function textProblem(text: string): string | undefined {
  if (text.includes("\0")) return "contains a NUL character (\\u0000), which cannot be stored";
  if (!text.isWellFormed()) return "contains a lone UTF-16 surrogate, which is not valid Unicode";
  return undefined;
}

/** Text from outside (a receiver's answer, a network error) made storable: NULs and lone surrogates become U+FFFD. */
export function storableText(text: string): string {
  return text.replaceAll("\0", "\uFFFD").toWellFormed();
}

/**
 * The first part of a parsed JSON value that would not be stored and read back as it was sent, with its
 * path; undefined when all of it would.
 */
export function storableJsonProblem(value: unknown, maxDepth: number = LIMITS.jsonDepth): Problem | undefined {
  const path: Array<string | number> = [];
  const problemAt = (message: string): Problem => ({ path: formatPath(path) || "body", message });

  // Recursion is safe: it never goes deeper than maxDepth.
  const check = (v: unknown, depth: number): Problem | undefined => {
    if (typeof v === "string") {
      const problem = textProblem(v);
      return problem ? problemAt(problem) : undefined;
    }
    if (typeof v === "number")
      return Number.isFinite(v) ? undefined : problemAt("is a number too large to store (past ±1.8e308)");
    if (v === null || typeof v !== "object") return undefined;
    if (depth >= maxDepth) return problemAt(`is nested deeper than ${maxDepth} levels`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        const problem = check(v[i], depth + 1);
        if (problem) return problem;
        path.pop();
      }
      return undefined;
    }
    for (const key of Object.keys(v)) {
      path.push(key);
      if (key === "__proto__") return problemAt("keys named __proto__ are not accepted");
      const keyProblem = textProblem(key);
      if (keyProblem) return problemAt(`key ${keyProblem}`);
      const problem = check((v as Record<string, unknown>)[key], depth + 1);
      if (problem) return problem;
      path.pop();
    }
    return undefined;
  };
  return check(value, 0);
}
