import { type LookupAddress, lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';

// SSRF guard for webhook URLs (API.md §5 Integration). A webhook makes this server POST to an address
// a client chose, so the address is checked where it matters: every address the host resolves to at
// registration, and at delivery the very address the socket connects to (see guardedLookup), so a DNS
// answer that changes after registration (rebinding) cannot steer a delivery inside.
//
// Two classes of refusal: `forbidden` (link-local, cloud metadata, multicast, reserved) is refused
// always; `private` (loopback, RFC 1918, CGNAT, unique-local, unspecified) only unless private networks
// are allowed (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, for on-premise receivers and tests).

export type AddressClass = 'public' | 'private' | 'forbidden';
export interface Classified {
  kind: AddressClass;
  /** what the address is, for the refusal message */
  label: string;
}

/** Host names of cloud metadata services: refused by name, whatever they resolve to. */
const METADATA_NAMES = new Set([
  'metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal',
  'metadata.azure.internal', 'metadata.platformequinix.com',
]);

type Range = [base: number, bits: number, kind: AddressClass, label: string];

const v4 = (a: number, b: number, c: number, d: number) => ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;

// First match wins: the metadata hosts inside private ranges come before those ranges.
const V4_RANGES: Range[] = [
  [v4(169, 254, 0, 0), 16, 'forbidden', 'link-local or cloud metadata'],
  [v4(100, 100, 100, 200), 32, 'forbidden', 'cloud metadata'],
  [v4(192, 0, 0, 192), 32, 'forbidden', 'cloud metadata'],
  [v4(224, 0, 0, 0), 4, 'forbidden', 'multicast'],
  [v4(240, 0, 0, 0), 4, 'forbidden', 'reserved or broadcast'],
  [v4(0, 0, 0, 0), 8, 'private', 'unspecified ("this network")'],
  [v4(10, 0, 0, 0), 8, 'private', 'private'],
  [v4(100, 64, 0, 0), 10, 'private', 'shared (carrier-grade NAT)'],
  [v4(127, 0, 0, 0), 8, 'private', 'loopback'],
  [v4(172, 16, 0, 0), 12, 'private', 'private'],
  [v4(192, 0, 0, 0), 24, 'private', 'IETF protocol assignment'],
  [v4(192, 168, 0, 0), 16, 'private', 'private'],
  [v4(198, 18, 0, 0), 15, 'private', 'benchmarking'],
];

function inRange(n: number, base: number, bits: number): boolean {
  if (bits === 0) return true;
  const mask = bits === 32 ? 0xffffffff : (~((1 << (32 - bits)) - 1)) >>> 0;
  return ((n & mask) >>> 0) === ((base & mask) >>> 0);
}

function classifyV4(n: number): Classified {
  for (const [base, bits, kind, label] of V4_RANGES) if (inRange(n, base, bits)) return { kind, label };
  return { kind: 'public', label: 'public' };
}

/** Dotted-quad only: URLs are normalised by the WHATWG parser first (decimal, octal, hex forms become dotted). */
function parseV4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  const [a, b, c, d] = parts.map(Number) as [number, number, number, number];
  return v4(a, b, c, d);
}

/** Eight 16-bit groups, or undefined. Takes `::`, an embedded dotted quad and a zone id (`%eth0`). */
function parseV6(text: string): number[] | undefined {
  let s = text.replace(/%.*$/, '');
  const quad = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (quad?.[1]) {
    const n = parseV4(quad[1]);
    if (n === undefined) return undefined;
    s = `${s.slice(0, -quad[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string | undefined) => (h ? h.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return undefined;
  const all = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (all.length !== 8 || !all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return all.map((g) => Number.parseInt(g, 16));
}

function classifyV6(g: number[]): Classified {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embedded = (hi: number, lo: number) => classifyV4(((hi << 16) >>> 0) + lo);
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroTo(5) && g5 === 0xffff) return embedded(g6, g7); // IPv4-mapped ::ffff:a.b.c.d
  if (zeroTo(8)) return { kind: 'private', label: 'unspecified' };
  if (zeroTo(7) && g7 === 1) return { kind: 'private', label: 'loopback' };
  if (zeroTo(6)) return embedded(g6, g7); // IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks)
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return embedded(g6, g7); // NAT64
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return { kind: 'private', label: 'local-use NAT64' };
  if (g0 === 0x2002) return embedded(g1, g2); // 6to4 carries an IPv4 address
  if (g0 === 0x2001 && g1 === 0) return { kind: 'forbidden', label: 'Teredo tunnel' };
  if (g0 === 0xfd00 && g1 === 0x0ec2 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 && g6 === 0 && g7 === 0x254) {
    return { kind: 'forbidden', label: 'cloud metadata' };
  }
  if ((g0 & 0xffc0) === 0xfe80) return { kind: 'forbidden', label: 'link-local' };
  if ((g0 & 0xff00) === 0xff00) return { kind: 'forbidden', label: 'multicast' };
  if ((g0 & 0xfe00) === 0xfc00) return { kind: 'private', label: 'unique local' };
  if ((g0 & 0xffc0) === 0xfec0) return { kind: 'private', label: 'site-local' };
  return { kind: 'public', label: 'public' };
}

/** The class of an IP address in text form; an unparsable one counts as forbidden. */
export function classifyAddress(address: string): Classified {
  const family = isIP(address);
  if (family === 4) {
    const n = parseV4(address);
    if (n !== undefined) return classifyV4(n);
  } else if (family === 6 || address.includes(':')) {
    const g = parseV6(address);
    if (g) return classifyV6(g);
  }
  return { kind: 'forbidden', label: 'unrecognised address' };
}

const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

function refusal(c: Classified, allowPrivate: boolean): string | undefined {
  const what = `${article(c.label)} ${c.label} address`;
  if (c.kind === 'forbidden') return `${what}, which is never allowed`;
  if (c.kind === 'private' && !allowPrivate) {
    return `${what}; private networks are allowed only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`;
  }
  return undefined;
}

export type UrlCheck = { ok: true; url: URL; host: string; literal: boolean } | { ok: false; message: string };

/**
 * The checks that need no DNS: scheme, credentials, metadata host names, and an IP-literal host's
 * class. The WHATWG parser has already turned `2130706433`, `0177.0.0.1` and `0x7f.1` into
 * `127.0.0.1` and `[::ffff:127.0.0.1]` into `[::ffff:7f00:1]`, so those forms are judged as what they are.
 */
export function checkUrlStatically(text: string, allowPrivate: boolean): UrlCheck {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: 'must be an absolute http or https URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, message: 'must use https or http' };
  if (url.username || url.password) return { ok: false, message: 'must not carry credentials; the signature authenticates deliveries' };
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (!host) return { ok: false, message: 'must name a host' };
  if (METADATA_NAMES.has(host)) return { ok: false, message: 'names a cloud metadata service, which is never allowed' };
  if (isIP(host) || host.includes(':')) {
    const why = refusal(classifyAddress(host), allowPrivate);
    return why ? { ok: false, message: `is ${why}` } : { ok: true, url, host, literal: true };
  }
  return { ok: true, url, host, literal: false };
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

const resolveAll: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));

/** The first refused address among `addresses`, as a message; undefined when all are allowed. */
export function refusedAmong(addresses: readonly string[], allowPrivate: boolean): string | undefined {
  for (const a of addresses) {
    const why = refusal(classifyAddress(a), allowPrivate);
    if (why) return `resolves to ${why}`;
  }
  return undefined;
}

/** Registration check: the static rules, then every address the host resolves to right now. */
export async function checkUrl(text: string, allowPrivate: boolean, resolve: Resolver = resolveAll): Promise<UrlCheck> {
  const s = checkUrlStatically(text, allowPrivate);
  if (!s.ok || s.literal) return s;
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(s.host);
  } catch {
    return { ok: false, message: 'names a host that does not resolve' };
  }
  if (addresses.length === 0) return { ok: false, message: 'names a host that does not resolve' };
  const why = refusedAmong(addresses.map((a) => a.address), allowPrivate);
  return why ? { ok: false, message: why } : s;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request: resolves as usual, then refuses the connection when any address is
 * not allowed. The socket connects only to an address that passed, so DNS rebinding finds no gap.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addrs) => {
      if (err) return callback(err, '');
      const why = refusedAmong(addrs.map((a) => a.address), allowPrivate) ?? (addrs.length ? undefined : 'resolves to nothing');
      if (why) return callback(Object.assign(new Error(`refused: ${hostname} ${why}`), { code: 'EWEBHOOKREFUSED' }), '');
      if (options.all) return callback(null, addrs);
      const first = addrs[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}
