// Contact names for the write benchmarks, Arabic and Latin (the two scripts `q` and duplicate detection normalise).
// Last names are three syllables picked by a hash of the row number: ~14 k per script, so full names
// repeat as in a real customer base (the duplicate rules then find similar names) without all being alike.
const LATIN_FIRST = ['Ahmed', 'Fatima', 'José', 'Müller', 'Chloé', 'Omar', 'Layla', 'Sven', 'Ana', 'Björn', 'Zoë', 'Karim'];
const ARABIC_FIRST = ['أحمد', 'فاطمة', 'محمد', 'عائشة', 'إبراهيم', 'ليلى', 'يوسف', 'مريم', 'خالد', 'نورة', 'سلمى', 'عبدالله'];
const LATIN_SYL = ['ka', 'ri', 'mo', 'sa', 'le', 'ta', 'vi', 'no', 'be', 'du', 'fa', 'gi', 'ho', 'ju', 'lu', 'me', 'pa', 'qui', 'ro', 'si', 'tu', 'va', 'we', 'zo'];
const ARABIC_SYL = ['سا', 'ري', 'مو', 'لي', 'نا', 'حو', 'دي', 'كر', 'بو', 'فا', 'جي', 'طو', 'عا', 'قي', 'زه', 'شو', 'ثا', 'خي', 'ضا', 'صو', 'غا', 'ظي', 'ته', 'يو'];
const mix = (i: number) => Math.imul(i ^ (i >>> 15), 2_654_435_761) >>> 0;
export function nameOf(i: number) {
  const h = mix(i + 1);
  const arabic = h % 2 === 1;
  const syl = arabic ? ARABIC_SYL : LATIN_SYL;
  const first = arabic ? ARABIC_FIRST : LATIN_FIRST;
  const last = [h >>> 4, h >>> 9, h >>> 14].map((x) => syl[x % syl.length]).join('');
  return { firstName: first[(h >>> 19) % first.length] as string, lastName: arabic ? `ال${last}` : last[0]!.toUpperCase() + last.slice(1) };
}


/**
 * The contacts CSV the import scenarios upload: `rows` rows in chunks of 1000 lines, names from both
 * scripts, unique emails and phones (so every row creates a contact). `tag` goes into every email, so
 * runs against a database that keeps its rows (BENCH_DATABASE) create again instead of updating.
 */
export function* importCsvChunks(rows: number, tag = ''): Generator<string> {
  yield 'firstName,lastName,email,phone,tags\n';
  let lines: string[] = [];
  for (let i = 1; i <= rows; i++) {
    const n = nameOf(i + 10_000_000);
    lines.push(`${n.firstName},"${n.lastName}",imp${i}${tag}@bulk.test,+9665${String(i).padStart(8, '0')},bulk;n${i % 10}`);
    if (lines.length === 1000) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length) yield `${lines.join('\n')}\n`;
}
