import { readFileSync, renameSync, writeFileSync } from 'node:fs';

// Where the sync got to, saved after every batch the CRM acknowledged. Written to a temporary file
// and renamed over the old one, so an interruption leaves either the old or the new checkpoint,
// never half of one. A batch sent but not yet checkpointed is sent again on resume: harmless,
// since every record is an upsert by the store's id.

export interface Checkpoint {
  /** the export this progress belongs to (a hash of the file): another export starts over */
  source: string;
  customersDone: number;
  ordersDone: number;
  /** the store's customer id → the CRM contact id, which orders need */
  contactIds: Record<string, string>;
}

export function loadCheckpoint(path: string, source: string): Checkpoint {
  try {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
    if (saved.source === source) return saved;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { source, customersDone: 0, ordersDone: 0, contactIds: {} };
}

export function saveCheckpoint(path: string, c: Checkpoint): void {
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(c)}\n`);
  renameSync(partial, path);
}
