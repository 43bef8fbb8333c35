import autocannon from 'autocannon';
import { peakRssDuring } from './servers.js';

// One load scenario: autocannon keeps `connections` requests in flight for `seconds`, each request
// built by `next` (path, body) so ids, search terms and versions rotate.

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface Scenario {
  name: string;
  next: () => RequestSpec;
  /** hears every response, e.g. to learn a record's new version for the next If-Match */
  onResponse?: (status: number, body: string, request: RequestSpec) => void;
  /** fewer connections than the run's default, for heavy requests (1000-record batches) */
  connections?: number;
  /** a floor on the run's duration, for requests that take seconds each */
  minSeconds?: number;
  /** reads only: seconds of the same requests first, not measured (writes would add rows) */
  warmupSeconds?: number;
}

export interface ScenarioResult {
  scenario: string;
  requestsPerSecond: number;
  p50ms: number;
  p99ms: number;
  requests: number;
  errors: number;
  /** status codes other than 2xx, by code */
  statuses: Record<string, number>;
  peakRssMb: number;
  connections: number;
}

export async function runScenario(
  base: string, pid: number | undefined, s: Scenario, o: { seconds: number; connections: number; headers: Record<string, string> },
): Promise<ScenarioResult> {
  const connections = s.connections ?? o.connections;
  const inFlight = new Map<object, RequestSpec>();
  // A server just started runs its first seconds in V8's interpreter: without a warm-up the first
  // scenario after a start (the baseline, GET by id) measured the JIT's progress, not the steady state.
  const warm = s.warmupSeconds ? await drive(base, s, { ...o, seconds: s.warmupSeconds }, connections, inFlight) : undefined;
  const { value: result, peakRssMb } = await peakRssDuring(pid, () => drive(base, s, o, connections, inFlight));
  const statuses: Record<string, number> = {};
  for (const [code, n] of Object.entries(result.statusCodeStats ?? {})) {
    if (!code.startsWith('2')) statuses[code] = (n as { count: number }).count;
  }
  return {
    scenario: s.name,
    requestsPerSecond: Math.round(result.requests.average),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    requests: result.requests.total,
    // a failure while warming up is a failure all the same
    errors: result.errors + result.timeouts + result.non2xx + (warm ? warm.errors + warm.timeouts + warm.non2xx : 0),
    statuses,
    peakRssMb,
    connections,
  };
}

function drive(
  base: string, s: Scenario, o: { seconds: number; headers: Record<string, string> }, connections: number, inFlight: Map<object, RequestSpec>,
) {
  return autocannon({
    url: base,
    connections,
    duration: Math.max(o.seconds, s.minSeconds ?? 0),
    headers: o.headers,
    timeout: 60,
    requests: [{
      setupRequest: (req, context) => {
        const spec = s.next();
        inFlight.set(context, spec);
        return { ...req, method: spec.method, path: spec.path, ...(spec.body !== undefined ? { body: spec.body } : {}), headers: { ...o.headers, 'content-type': 'application/json', ...spec.headers } };
      },
      onResponse: (status, body, context) => {
        const spec = inFlight.get(context);
        if (spec && s.onResponse) s.onResponse(status, body, spec);
      },
    }],
  });
}
