import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { deliverDueWebhooks, fanOutWebhooks } from '../../src/modules/integration/delivery.service.js';
import { signatureHeader } from '../../src/modules/integration/signature.js';

// The signature-checking snippets of docs/integration.md, run as published (TypeScript through
// `npx tsx`, Python through `python3`) against a real delivery: a body and X-CRM-Signature header that
// the service signed and POSTed to a receiver on 127.0.0.1, during a secret rotation (two v1=).

const ROOT = new URL('../../', import.meta.url).pathname;
const doc = readFileSync(join(ROOT, 'docs/integration.md'), 'utf8');

/** The fenced block of `lang` that follows the `<!-- snippet: name … -->` marker. */
function snippet(name: string, lang: string): string {
  const at = doc.indexOf(`<!-- snippet: ${name}`);
  if (at < 0) throw new Error(`docs/integration.md has no snippet ${name}`);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(doc.slice(at));
  if (!m) throw new Error(`no \`\`\`${lang} block after ${name}`);
  return m[1] as string;
}

interface Case { name: string; body: string; header: string; secret: string; expect: boolean }

const h = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
t.teardown(() => h.close());
const admin = h.user('admin');
const db = h.db.database.db;

/** One real delivery, signed with a new and an old secret: its raw body and headers. */
async function signedDelivery() {
  const got: Array<{ body: string; signature: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-crm-signature'] as string });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const hook = (await h.request({ method: 'POST', url: '/v1/webhooks', headers: admin.auth, payload: { url, events: ['contact.created'] } })).json();
    const rotated = (await h.request({ method: 'POST', url: `/v1/webhooks/${hook.id}/rotate-secret`, headers: admin.auth, payload: { overlapMinutes: 60 } })).json();
    // non-ASCII text: the HMAC is over the body's UTF-8 bytes, which a snippet must not re-encode wrongly
    await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName: 'سارة', lastName: 'Müller 🚀' } });
    await fanOutWebhooks(db);
    await deliverDueWebhooks(db, { allowPrivateNetworks: true });
    if (got.length !== 1) throw new Error(`expected one delivery, got ${got.length}`);
    return { ...(got[0] as { body: string; signature: string }), newSecret: rotated.secret as string, oldSecret: hook.secret as string };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

const d = await signedDelivery();
const now = Math.floor(Date.now() / 1000);
const cases: Case[] = [
  { name: 'the new secret', body: d.body, header: d.signature, secret: d.newSecret, expect: true },
  { name: 'the old secret during the overlap', body: d.body, header: d.signature, secret: d.oldSecret, expect: true },
  { name: 'a tampered body', body: d.body.replace('سارة', 'سارا'), header: d.signature, secret: d.newSecret, expect: false },
  { name: 'a body re-serialised with other spacing', body: JSON.stringify(JSON.parse(d.body), null, 1), header: d.signature, secret: d.newSecret, expect: false },
  { name: 'a wrong secret', body: d.body, header: d.signature, secret: 'whsec_someone-else-entirely', expect: false },
  { name: 'a header an hour old', body: d.body, header: signatureHeader(d.newSecret, d.body, now - 3600), secret: d.newSecret, expect: false },
  { name: 'a header without v1', body: d.body, header: `t=${now}`, secret: d.newSecret, expect: false },
  { name: 'one fresh signature', body: d.body, header: signatureHeader(d.newSecret, d.body, now), secret: d.newSecret, expect: true },
];

const dir = mkdtempSync(join(tmpdir(), 'crm-snippets-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function run(command: string, args: string[]): boolean[] {
  const r = spawnSync(command, args, { cwd: ROOT, input: JSON.stringify(cases), encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
}

t.test('the delivery really carries two signatures', async (t) => {
  t.match(d.signature, /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
  t.match(d.body, /سارة/);
});

t.test('the TypeScript snippet, run with npx tsx', async (t) => {
  const file = join(dir, 'verify.mts');
  writeFileSync(file, `${snippet('verify-signature-ts', 'ts')}

import { readFileSync as readInput } from 'node:fs';
const input = JSON.parse(readInput(0, 'utf8')) as Array<{ body: string; header: string; secret: string }>;
console.log(JSON.stringify(input.map((c) => verifyCrmSignature(Buffer.from(c.body, 'utf8'), c.header, c.secret))));
`);
  const results = run('npx', ['--no-install', 'tsx', file]);
  cases.forEach((c, i) => t.equal(results[i], c.expect, `${c.expect ? 'accepts' : 'rejects'} ${c.name}`));
});

t.test('the Python snippet, run with python3', async (t) => {
  const file = join(dir, 'verify.py');
  writeFileSync(file, `${snippet('verify-signature-py', 'python')}


if __name__ == "__main__":
    import json
    import sys

    cases = json.load(sys.stdin)
    print(json.dumps([verify_crm_signature(c["body"].encode("utf-8"), c["header"], c["secret"]) for c in cases]))
`);
  const results = run('python3', [file]);
  cases.forEach((c, i) => t.equal(results[i], c.expect, `${c.expect ? 'accepts' : 'rejects'} ${c.name}`));
});
