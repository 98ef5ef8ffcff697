import { isPagingKind } from '../../shared/domain/finding.ts';

/**
 * Judges printed findings against expected ones, as ../shared/fixtures/wi-events/README.md says:
 * each expected finding is matched by a different printed one with the same kind and status and the
 * same value of every other field it lists (ksas as a set of namespace/name pairs); no other finding
 * of a paging kind may be printed. Returns the problems found (empty: the case passes).
 */
export function judge(expected: Record<string, unknown>[], printed: Record<string, unknown>[]): string[] {
  const problems: string[] = [];
  const unused = new Set(printed.map((_, index) => index));
  for (const want of expected) {
    const match = [...unused].find((index) => matches(want, printed[index] as Record<string, unknown>));
    if (match === undefined) problems.push(`no printed finding matches ${JSON.stringify(want)}`);
    else unused.delete(match);
  }
  for (const index of unused) {
    const extra = printed[index] as Record<string, unknown>;
    if (isPagingKind(String(extra.kind))) problems.push(`unexpected paging finding ${JSON.stringify(extra)}`);
  }
  return problems;
}

function matches(want: Record<string, unknown>, got: Record<string, unknown>): boolean {
  return Object.entries(want).every(([key, value]) =>
    key === 'ksas' ? sameKsas(value, got.ksas) : deepEqual(value, got[key]),
  );
}

function sameKsas(want: unknown, got: unknown): boolean {
  const key = (list: unknown) =>
    new Set(((list as { namespace: string; name: string }[]) ?? []).map((k) => `${k.namespace}/${k.name}`));
  const a = key(want);
  const b = key(got);
  return a.size === b.size && [...a].every((k) => b.has(k));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) =>
    deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}
