// CSV import at scale: one file of `rows` new contacts posted to /v1/imports, then polled until the
// job ends. Throughput is rows per second of the whole job, as an integrator would see it.

export interface ImportResult {
  scenario: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  created: number;
  updated: number;
  failed: number;
  status: string;
  errors: number;
  peakRssMb: number;
}

function csv(rows: number, runId: string): string {
  const lines = ['firstName,lastName,email,phone,lifecycleStage'];
  for (let i = 0; i < rows; i++) {
    const phone = `+9665${String(40_000_000 + (i % 9_000_000)).padStart(8, '0')}`;
    lines.push(`Import,Row ${i},import-${runId}-${i}@bench.example,${phone},subscriber`);
  }
  return `${lines.join('\n')}\n`;
}

export async function importCsv(base: string, token: string, rows: number, runId: string): Promise<Omit<ImportResult, 'peakRssMb'>> {
  const auth = { authorization: `Bearer ${token}` };
  const body = csv(rows, runId);
  const started = performance.now();
  const accepted = await fetch(`${base}/v1/imports?entity=contacts&idProperty=email`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body });
  if (accepted.status !== 202) throw new Error(`import answered ${accepted.status}: ${await accepted.text()}`);
  const { id } = (await accepted.json()) as { id: string };
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const job = (await (await fetch(`${base}/v1/imports/${id}`, { headers: auth })).json()) as
      { status: string; processed: number; created: number; updated: number; failed: number };
    if (job.status === 'completed' || job.status === 'failed') {
      const seconds = (performance.now() - started) / 1000;
      return {
        scenario: `CSV import of ${rows} contacts`, rows, seconds: Math.round(seconds * 10) / 10, rowsPerSecond: Math.round(rows / seconds),
        created: job.created, updated: job.updated, failed: job.failed, status: job.status,
        errors: job.failed + (job.status === 'failed' ? 1 : 0),
      };
    }
  }
}
