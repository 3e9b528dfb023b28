// What a user may send to create or change a webhook.
import { z } from "zod";
import { CONTEXT_ROOTS } from "../events/event-context.ts";
import { HEADER_VALUE } from "./build-delivery.ts";
import { templateProblems } from "../templates/template.ts";
import { LIMITS } from "../limits.ts";
import { reportProblems, withinBytes } from "../validation.ts";

/** Headers tetik sets on every delivery, or that belong to the connection: custom headers cannot set them. */
export const RESERVED_HEADERS = new Set([
  "content-type",
  "user-agent",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "host",
  "content-length",
  "connection",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "proxy-authorization",
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const headerValue = z
  .string()
  .max(LIMITS.headerValueChars)
  .regex(HEADER_VALUE, "header values cannot contain line breaks, NUL or characters beyond Latin-1");

/** Names any custom header may have: an HTTP token, not one tetik sets. */
function checkHeaderNames(names: string[], ctx: z.RefinementCtx) {
  if (names.length > LIMITS.webhookHeaders) {
    ctx.addIssue({ code: "custom", message: `at most ${LIMITS.webhookHeaders} headers` });
  }
  for (const name of names) {
    if (!TOKEN.test(name)) ctx.addIssue({ code: "custom", path: [name], message: "is not a valid header name" });
    else if (RESERVED_HEADERS.has(name.toLowerCase())) {
      ctx.addIssue({ code: "custom", path: [name], message: "is set by tetik and cannot be replaced" });
    }
  }
}

const headersInput = z.record(z.string(), headerValue).superRefine((headers, ctx) => {
  checkHeaderNames(Object.keys(headers), ctx);
  reportProblems(ctx, templateProblems(headers, CONTEXT_ROOTS));
});

/**
 * Secret headers: sent as written (never rendered as templates, so a token may hold anything a header
 * can), stored sealed, never shown. Names are case-insensitive: two spellings of one name are refused.
 */
const secretHeaders = <V extends z.ZodType>(value: V) =>
  z.record(z.string(), value).superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    checkHeaderNames(names, ctx);
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name.toLowerCase())) ctx.addIssue({ code: "custom", path: [name], message: "is named twice" });
      seen.add(name.toLowerCase());
    }
  });
const secretHeadersDescription =
  "header values sent on every delivery and never shown (answers list their names): a receiver's token";

export const retryInput = z
  .strictObject({
    maxAttempts: z.number().int().min(1).max(50),
    backoff: z.enum(["exponential", "fixed"]),
    delayMs: z.number().int().min(0).max(86_400_000),
    maxDelayMs: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400_000),
  })
  .partial();

const fields = {
  definitionId: z.string().min(1).max(200),
  url: z.string().max(2048).url(),
  method: z
    .preprocess((m) => (typeof m === "string" ? m.toUpperCase() : m), z.enum(["POST", "PUT", "PATCH"]))
    .optional(),
  headers: headersInput.optional(),
  payload: z
    .unknown()
    .superRefine(withinBytes(LIMITS.templateBytes))
    .superRefine((payload, ctx) => reportProblems(ctx, templateProblems(payload, CONTEXT_ROOTS)))
    .optional(),
  active: z.boolean().optional(),
  timeoutMs: z.number().int().min(100).max(300_000).nullable().optional(),
  retry: retryInput.optional(),
  /** Flow control: requests started in any second, and open at once, across every worker (null: no limit). */
  maxPerSecond: z.number().int().min(1).max(10_000).nullable().optional(),
  maxInFlight: z.number().int().min(1).max(1_000).nullable().optional(),
  /** "record": one delivery at a time per record, in acceptance order. */
  ordering: z.enum(["none", "record"]).optional(),
};

export const createWebhookInput = z.strictObject({
  ...fields,
  secretHeaders: secretHeaders(headerValue).optional().meta({ description: secretHeadersDescription }),
});
export type CreateWebhookInput = z.output<typeof createWebhookInput>;

export const updateWebhookInput = z
  .strictObject({
    ...fields,
    secretHeaders: secretHeaders(headerValue.nullable()).meta({
      description: `${secretHeadersDescription}. Names given are set, null removes one, others are kept`,
    }),
  })
  .partial();
export type UpdateWebhookInput = z.output<typeof updateWebhookInput>;
