import { isDeepStrictEqual } from "node:util";

/**
 * Top-level fields an update changed. Without `previous` the source sent only what changed (as Directus
 * does), so every field of `data` counts as changed.
 */
export function changedFields(
  data: Record<string, unknown>,
  previous: Record<string, unknown> | null | undefined,
): string[] {
  if (!previous) return Object.keys(data).sort();
  const keys = new Set([...Object.keys(data), ...Object.keys(previous)]);
  return [...keys].filter((key) => !isDeepStrictEqual(data[key], previous[key])).sort();
}
