import { NESTED_TEXT_FIELDS, TEXT_FIELDS } from './classify.ts';
import { METADATA_SERVER_POD, NEEDLES } from './signatures.ts';

/**
 * The workload-log sink filter, generated from the same signatures and text fields the classifier
 * reads, so what Cloud Logging routes and what wi-sentinel recognises cannot drift apart.
 *
 * Narrow on purpose (routing is billed by volume): container entries whose text fields contain a
 * signature's needle, and the gke-metadata-server pods' own errors. Logging compares strings
 * without regard to case, the classifier with it, so the filter lets through a little more than
 * the classifier keeps, never less.
 * https://cloud.google.com/logging/docs/view/logging-query-language
 */

/** Logging refuses longer queries. https://cloud.google.com/logging/quotas#log-limits */
export const MAX_FILTER_CHARS = 20_000;

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The payload fields the classifier reads text from, as Logging names them. */
export function textFields(): string[] {
  const json = TEXT_FIELDS.map((field) => `jsonPayload.${field}`);
  const nested = ['error', 'err'].flatMap((field) =>
    NESTED_TEXT_FIELDS.map((inner) => `jsonPayload.${field}.${inner}`),
  );
  return ['textPayload', ...json, ...nested];
}

export function workloadSinkFilter(): string {
  const needles = `(${NEEDLES.map(quote).join(' OR ')})`;
  const text = textFields().map((field) => `${field}:${needles}`);
  const metadataServer = [
    `resource.labels.namespace_name=${quote(METADATA_SERVER_POD.namespace)}`,
    `resource.labels.container_name=${quote(METADATA_SERVER_POD.container)}`,
    // An unstructured klog line has no severity (DEFAULT); its own `E` prefix says it is an error.
    '(severity>=ERROR OR (severity=DEFAULT AND textPayload=~"^E[0-9]{4} "))',
  ].join(' AND ');
  const filter = [
    'resource.type="k8s_container"',
    `(\n  ${[...text, `(${metadataServer})`].join('\n  OR ')}\n)`,
  ].join('\nAND ');
  if (filter.length > MAX_FILTER_CHARS) {
    throw new Error(
      `workload sink filter is ${filter.length} characters, over Logging's ${MAX_FILTER_CHARS}`,
    );
  }
  return filter;
}
