/**
 * Whether `p` settles within `ms` (a rejection still rejects). The timer is cleared as soon as the
 * race is decided: a `sleep(15_000)` left pending after `p` won kept the test process alive 15 s
 * after its last test.
 */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
