// An analytics response as a table, for CSV and charts (docs/metrics.md "Formats").
//
// Which rows: the `series` when the response has one (one row per bucket); else its first list of
// objects (pipelines, campaigns, sources, cohorts, byCurrency, …), one row per element; else one row,
// the response itself. Each row is flattened into dotted columns (firstResponse.medianMinutes).
// Lists of objects inside a row: in `long` form a row holding exactly one of them becomes one row per
// element (stages of a pipeline, currencies of a bucket, months of a cohort), its other columns
// repeated; otherwise (and always in `wide` form) each element becomes columns named by its currency,
// key, period, status, priority, segment, source or name — else its index: byCurrency.SAR.total.

export type Cell = string | number | boolean | null;
export type Row = Map<string, Cell>;
export interface Table { columns: string[]; rows: Row[] }

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isObjList = (v: Json | undefined): v is Obj[] => Array.isArray(v) && v.length > 0 && v.every(isObj);
const NAMING = ['currency', 'key', 'period', 'status', 'priority', 'segment', 'source', 'name'];

function nameOf(o: Obj, i: number): string {
  for (const k of NAMING) if (k in o) return o[k] === null ? 'none' : String(o[k]);
  return String(i);
}

/** The object's scalar leaves as dotted columns; lists of objects keyed by their naming field. */
function spread(o: Obj, prefix: string, into: Row): void {
  for (const [k, v] of Object.entries(o)) {
    const col = prefix + k;
    if (isObj(v)) spread(v, `${col}.`, into);
    else if (isObjList(v)) v.forEach((e, i) => spread(e, `${col}.${nameOf(e, i)}.`, into));
    else if (Array.isArray(v)) {
      // an empty list has no columns (an empty per-currency list is "no money", not a value)
      if (v.length) into.set(col, v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(';'));
    }
    else into.set(col, v);
  }
}

function longRows(o: Obj): Row[] {
  const lists = Object.entries(o).filter(([, v]) => Array.isArray(v) && v.some(isObj));
  if (lists.length !== 1) {
    const row: Row = new Map();
    spread(o, '', row);
    return [row];
  }
  const [listName, list] = lists[0] as [string, Obj[]];
  const base: Row = new Map();
  spread(Object.fromEntries(Object.entries(o).filter(([k]) => k !== listName)), '', base);
  if (list.length === 0) return [base];
  return list.flatMap((e) => longRows(e).map((inner) => {
    const row = new Map(base);
    for (const [k, v] of inner) row.set(`${listName}.${k}`, v);
    return row;
  }));
}

export function toTable(response: unknown, form: 'long' | 'wide'): Table {
  const body = response as Obj;
  const list = Array.isArray(body.series)
    ? body.series
    : Object.values(body).find((v) => Array.isArray(v) && v.some(isObj));
  const items = (list as Obj[] | undefined)?.filter(isObj) ?? [body];
  const rows = items.flatMap((item) => {
    if (form === 'long') return longRows(item);
    const row: Row = new Map();
    spread(item, '', row);
    return [row];
  });
  const columns = [...new Set(rows.flatMap((r) => [...r.keys()]))];
  return { columns, rows };
}
