// An audit entry's before and after, field by field, for the audit page: nested objects are followed to
// dotted paths (retry.maxAttempts), anything else (arrays, values) is compared as its JSON. Pure.

export interface FieldChange {
  /** The field's dotted path; "" for a value that is not an object (a replay's count, a whole null). */
  field: string;
  /** JSON of the value before and after; undefined when the field was absent on that side. */
  before?: string;
  after?: string;
  changed: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

function flatten(value: unknown, prefix: string, into: Map<string, string>): void {
  if (isObject(value) && (Object.keys(value).length > 0 || prefix === "")) {
    for (const [name, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${name}` : name, into);
    return;
  }
  if (value === undefined || (value === null && prefix === "")) return;
  into.set(prefix, JSON.stringify(value));
}

/** Every field either side has, in the order after (then before) lists them; changed ones marked. */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const was = new Map<string, string>();
  const now = new Map<string, string>();
  flatten(before, "", was);
  flatten(after, "", now);
  const fields = [...new Set([...now.keys(), ...was.keys()])];
  return fields.map((field) => ({
    field,
    before: was.get(field),
    after: now.get(field),
    changed: was.get(field) !== now.get(field),
  }));
}
