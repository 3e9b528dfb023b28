// Types for `stack.api`: a call's method and path pick its route in the contract
// (functions/api/contract/routes.ts), and the answer is typed as that route documents it: one variant per
// status, each with its body's shape. `expectStatus(res, 201)` checks the status and narrows the body.
import { expect } from "vitest";
import type { z } from "zod";
import type { allRoutes } from "../../functions/api/contract/routes.ts";
import type { ErrorShape as ErrorSchema } from "../../functions/api/contract/shapes.ts";

type ErrorShape = z.output<typeof ErrorSchema>;

type Routes = typeof allRoutes;
type RouteName = keyof Routes;

/** Does `path` (a literal or template literal type) fill the route path `template`, one segment per `{param}`? */
type Fills<Path extends string, Template extends string> = Template extends `${infer Head}{${string}}${infer Rest}`
  ? Path extends `${Head}${infer After}`
    ? After extends `${infer Segment}/${infer More}`
      ? Segment extends ""
        ? false
        : Fills<`/${More}`, Rest>
      : Rest extends ""
        ? After extends ""
          ? false
          : true
        : false
    : false
  : Path extends Template
    ? true
    : false;

type WithoutQuery<P extends string> = P extends `${infer Path}?${string}` ? Path : P;

/** The route a method and a path name, or never. */
export type RouteOf<M extends string, P extends string> = {
  [K in RouteName]: Lowercase<M> extends Routes[K]["method"]
    ? Fills<WithoutQuery<P>, Routes[K]["path"]> extends true
      ? K
      : never
    : never;
}[RouteName];

type BodyShape<R> = R extends { content: infer C }
  ? C extends { "application/json": { schema: infer S extends z.ZodType } }
    ? z.output<S>
    : string
  : null;

/** The answers a route documents: `{ status, body }` per status. */
export type AnswerOf<K extends RouteName> = {
  [S in keyof Routes[K]["responses"]]: { status: S; headers: Headers; body: BodyShape<Routes[K]["responses"][S]> };
}[keyof Routes[K]["responses"]];

/** An answer of a path that names no route (a 404 by design, or a path built at run time). */
export interface UnroutedAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

export type ApiAnswer<M extends string, P extends string> = [RouteOf<M, P>] extends [never]
  ? UnroutedAnswer
  : AnswerOf<RouteOf<M, P>>;

type Answer = { status: unknown; body: unknown };

/**
 * Fails unless the answer has `status`, and answers its body as the route documents it for that status:
 * `expectStatus(await stack.api("POST", "/definitions", {...}), 201).id`.
 */
export function expectStatus<A extends Answer, const S extends A["status"]>(
  answer: A,
  status: S,
): Extract<A, { status: S }>["body"] {
  expect(answer.status, `answered ${String(answer.status)}: ${JSON.stringify(answer.body)}`).toBe(status);
  return answer.body as Extract<A, { status: S }>["body"];
}

/** Fails unless the answer is the error `status` with `code`; answers the error (message, details). */
export function expectError<A extends Answer>(answer: A, status: A["status"], code: string): ErrorShape["error"] {
  const body = expectStatus(answer, status) as ErrorShape;
  expect(body.error.code, body.error.message).toBe(code);
  return body.error;
}
