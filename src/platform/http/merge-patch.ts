/**
 * RFC 7396 JSON merge patch of one object-valued field: nested objects merge, null removes a key,
 * arrays and scalars replace. Returns a new object; neither argument is changed.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k], v);
  }
  return base;
}

/** Applies a merge patch to a record's fields: absent fields stay, null clears, object fields merge. */
export function applyPatch<T extends Record<string, unknown>>(
  current: T,
  patch: Record<string, unknown>,
  objectFields: readonly string[],
): Partial<T> {
  const changes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    const next = objectFields.includes(k) && v !== null ? mergePatch(current[k], v) : v;
    if (JSON.stringify(next) !== JSON.stringify(current[k] ?? null)) changes[k] = next;
  }
  return changes as Partial<T>;
}
