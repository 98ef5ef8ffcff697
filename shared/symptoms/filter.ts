import { MAX_FILTER_LENGTH, quote } from '../events/sink-filter.ts';
import { NESTED_TEXT_FIELDS, TEXT_FIELDS } from './classify.ts';
import { METADATA_SERVER_POD, SIGNATURES } from './signatures.ts';

/**
 * The workload-log sink filter, generated from the same signatures and text fields the classifier
 * reads, so what Cloud Logging routes and what wi-sentinel recognises cannot drift apart.
 *
 * Narrow on purpose (routing is billed by volume): container entries whose text fields contain a
 * signature's needle, and the gke-metadata-server pods' own errors. A needle ordinary logs print too
 * (the metadata address, `invalid_grant`) routes only beside one of its signature's `alongside`
 * terms, the rule the classifier checks before any pattern; there is no severity floor, because
 * libraries log real failures at INFO (a Java console appender on stdout), at WARNING (google-auth's
 * retries) or with no severity at all. Logging compares strings without regard to case, the
 * classifier's needles with it, so the filter lets through a little more than the classifier keeps,
 * never less.
 * https://cloud.google.com/logging/docs/view/logging-query-language
 */

/** The payload fields the classifier reads text from, as Logging names them. */
export function textFields(): string[] {
  const json = TEXT_FIELDS.map((field) => `jsonPayload.${field}`);
  const nested = ['error', 'err'].flatMap((field) =>
    NESTED_TEXT_FIELDS.map((inner) => `jsonPayload.${field}.${inner}`),
  );
  return ['textPayload', ...json, ...nested];
}

/** A routing rule: one of `needles` in a text field, and one of `alongside` (when set) in one too. */
export interface Route {
  needles: string[];
  alongside?: readonly string[];
}

/**
 * The signatures' rules, merged: every needle some signature accepts alone in one list, then one rule
 * per `alongside` list for the needles that need it. A needle any signature accepts alone needs
 * nothing beside it.
 */
export function routes(): Route[] {
  const alone = [...new Set(SIGNATURES.filter((s) => !s.alongside).flatMap((s) => s.needles))];
  const byTerms = new Map<readonly string[], Set<string>>();
  for (const signature of SIGNATURES) {
    if (!signature.alongside) continue;
    const needles = byTerms.get(signature.alongside) ?? new Set<string>();
    for (const needle of signature.needles) if (!alone.includes(needle)) needles.add(needle);
    byTerms.set(signature.alongside, needles);
  }
  return [
    { needles: alone },
    ...[...byTerms].map(([alongside, needles]) => ({ needles: [...needles], alongside })),
  ];
}

/** Any of `values` in any text field. */
function inText(values: readonly string[]): string {
  const list = `(${values.map(quote).join(' OR ')})`;
  return textFields()
    .map((field) => `${field}:${list}`)
    .join('\n  OR ');
}

export function workloadSinkFilter(): string {
  return filterOf(routes());
}

/** The filter for a set of rules (the bench also builds the needles-only filter it replaced). */
export function filterOf(rules: readonly Route[]): string {
  const clauses = rules.map(({ needles, alongside }) =>
    alongside ? `(\n  (${inText(needles)})\n  AND (${inText(alongside)})\n  )` : inText(needles),
  );
  const metadataServer = [
    `resource.labels.namespace_name=${quote(METADATA_SERVER_POD.namespace)}`,
    `resource.labels.container_name=${quote(METADATA_SERVER_POD.container)}`,
    // An unstructured klog line has no severity (DEFAULT); its own `E` prefix says it is an error.
    '(severity>=ERROR OR (severity=DEFAULT AND textPayload=~"^E[0-9]{4} "))',
  ].join(' AND ');
  const filter = [
    'resource.type="k8s_container"',
    `(\n  ${[...clauses, `(${metadataServer})`].join('\n  OR ')}\n)`,
  ].join('\nAND ');
  if (filter.length > MAX_FILTER_LENGTH) {
    throw new Error(
      `workload sink filter is ${filter.length} characters, over Logging's ${MAX_FILTER_LENGTH}`,
    );
  }
  return filter;
}
