import { type Finding, scopeOf } from '../domain/finding.ts';
import type { Silence, SilenceMatchers } from '../domain/incident.ts';

/**
 * Silences hold incidents back from people (recorded, not sent) until they expire. Every matcher
 * given must match; a value ending in `*` matches a prefix. A finding matches `namespace` / `ksa` when
 * any KSA or workload it names does (`ksa` is `NAMESPACE/NAME`), `actor` when the principal who made
 * the change or any principal of its delegation chain does. Plans are stored beside silences
 * (`effect: 'plan'`) and are no silence.
 */
export function activeSilence(
  finding: Finding,
  silences: readonly Silence[],
  now: Date,
  incidentId?: string,
): Silence | undefined {
  return silences.find(
    (silence) =>
      silence.effect !== 'plan' &&
      Date.parse(silence.expiresAt) > now.getTime() &&
      (silence.endsWith === undefined || silence.endsWith === incidentId) &&
      silenceMatches(silence.matchers, finding),
  );
}

export function silenceMatches(matchers: SilenceMatchers, finding: Finding): boolean {
  const { namespaces, clusters } = scopeOf(finding);
  const checks: [string | undefined, (string | undefined)[]][] = [
    [matchers.project, [finding.project]],
    [matchers.cluster, clusters],
    [matchers.namespace, namespaces],
    [matchers.ksa, finding.ksas.map((k) => `${k.namespace}/${k.name}`)],
    [matchers.kind, [finding.kind]],
    [matchers.fingerprint, [finding.fingerprint]],
    [matchers.actor, [finding.cause?.actor, ...(finding.cause?.delegation ?? [])]],
    [matchers.tool, [finding.cause?.via?.tool]],
  ];
  if (checks.every(([pattern]) => pattern === undefined)) return false;
  return checks.every(
    ([pattern, values]) =>
      pattern === undefined || values.some((v) => v !== undefined && globMatch(pattern, v)),
  );
}

export function globMatch(pattern: string, value: string): boolean {
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : pattern === value;
}
