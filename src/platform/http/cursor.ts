/**
 * Opaque keyset cursors: base64url of `{s, v}` — the sort they belong to and the sort values of the
 * last row seen. Clients must not build them; a cursor from another sort is refused.
 */
export interface CursorData {
  s: string;
  v: (string | null)[];
}

export function encodeCursor(c: CursorData): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(text: string): CursorData | undefined {
  if (text.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (
      c && typeof c === 'object' && typeof (c as CursorData).s === 'string' && Array.isArray((c as CursorData).v) &&
      (c as CursorData).v.every((x) => x === null || typeof x === 'string')
    ) {
      return c as CursorData;
    }
  } catch {
    // fall through: a cursor that is not ours
  }
  return undefined;
}
