// The OpenAPI document as a referee: every answer an API test receives through `stack.api` (and the typed
// client's tests) is checked against the document's schema for its route and status, so the document
// cannot say one thing while the API does another. A status the route does not document fails too.
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { ValidateFunction } from "ajv";
import { openApiDocument } from "../../functions/api/contract/openapi-document.ts";

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
type Document = { paths: Record<string, Record<string, Operation>>; components: unknown };

const doc = openApiDocument() as unknown as Document;
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
// The whole document under one id, so each response schema's "#/components/..." references resolve.
ajv.addSchema(doc as object, "doc");

const pointer = (...parts: string[]) =>
  parts.map((p) => encodeURIComponent(p.replaceAll("~", "~0").replaceAll("/", "~1"))).join("/");

// Literal paths before templated ones: /events/replay is not /events/{id}.
const templates = Object.keys(doc.paths)
  .map((template) => ({
    template,
    params: (template.match(/\{/g) ?? []).length,
    regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
  }))
  .sort((a, b) => a.params - b.params);

const validators = new Map<string, ValidateFunction>();
function validatorFor(template: string, method: string, status: string): ValidateFunction {
  const key = `${method} ${template} ${status}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile({
      $ref: `doc#/${pointer("paths", template, method, "responses", status, "content", "application/json", "schema")}`,
    });
    validators.set(key, validate);
  }
  return validate;
}

/** The documented route a request went to, if any (unknown routes answer a plain 404). */
export function documentedRoute(method: string, path: string): { template: string; operation: Operation } | undefined {
  const bare = path.split("?")[0]!;
  for (const { template, regex } of templates) {
    const operation = doc.paths[template]![method.toLowerCase()];
    if (operation && regex.test(bare)) return { template, operation };
  }
  return undefined;
}

/** Throws, naming what differs, when an answer is not what the document says of its route and status. */
export function checkAgainstDocument(
  method: string,
  path: string,
  status: number,
  contentType: string | null,
  body: unknown,
): void {
  const route = documentedRoute(method, path);
  const what = `${method} ${path} -> ${status}`;
  if (!route) {
    // no such route: the app's 404 (checked below as an error shape when JSON)
    if (status === 404 || status === 405) return;
    return;
  }
  const documented = route.operation.responses[String(status)];
  if (!documented)
    throw new Error(
      `${what}: status ${status} is not documented for ${method.toUpperCase()} ${route.template} ` +
        `(documented: ${Object.keys(route.operation.responses).join(", ")}); ` +
        `body ${JSON.stringify(body)?.slice(0, 500)}`,
    );
  const media = documented.content && Object.keys(documented.content)[0];
  if (!media) {
    if (body !== null && body !== "")
      throw new Error(`${what}: documented without a body, answered ${JSON.stringify(body).slice(0, 200)}`);
    return;
  }
  if (!contentType?.startsWith(media)) throw new Error(`${what}: documented as ${media}, answered as ${contentType}`);
  if (media !== "application/json") return;
  const validate = validatorFor(route.template, method.toLowerCase(), String(status));
  if (!validate(body)) {
    throw new Error(
      `${what}: the answer does not match the documented schema: ${ajv.errorsText(validate.errors)}; ` +
        `body ${JSON.stringify(body).slice(0, 500)}`,
    );
  }
}

/** ky options that hold every answer the typed client receives to the document, as `stack.api`'s are. */
export const refereedKy = {
  hooks: {
    afterResponse: [
      async (request: Request, _options: unknown, response: Response) => {
        const text = await response.clone().text();
        const json = response.headers.get("content-type")?.startsWith("application/json");
        checkAgainstDocument(
          request.method,
          new URL(request.url).pathname,
          response.status,
          response.headers.get("content-type"),
          text ? (json ? JSON.parse(text) : text) : null,
        );
      },
    ],
  },
};
