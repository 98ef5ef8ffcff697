import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_FILTER_CHARS, textFields, workloadSinkFilter } from '../../../shared/symptoms/filter.ts';
import { NEEDLES } from '../../../shared/symptoms/signatures.ts';
import { matchSamples, noiseSamples, type Sample } from './fixtures.ts';

const filter = workloadSinkFilter();

function valueAt(raw: Record<string, unknown>, path: string): unknown {
  let at: unknown = raw;
  for (const key of path.split('.')) {
    at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  }
  return at;
}

/**
 * What Logging does with the filter, for one entry: `field:"x"` is a case-insensitive substring
 * test, so an entry passes when one of the named text fields holds a needle in any case, or when it
 * is a gke-metadata-server error.
 */
function routed(sample: Sample): boolean {
  const raw = sample.raw;
  if (valueAt(raw, 'resource.type') !== 'k8s_container') return false;
  const text = textFields()
    .map((field) => valueAt(raw, field))
    .filter((value) => typeof value === 'string')
    .map((value) => value.toLowerCase());
  if (NEEDLES.some((needle) => text.some((value) => value.includes(needle.toLowerCase())))) return true;
  const order = ['DEFAULT', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'];
  return (
    valueAt(raw, 'resource.labels.namespace_name') === 'kube-system' &&
    valueAt(raw, 'resource.labels.container_name') === 'gke-metadata-server' &&
    order.indexOf(String(raw.severity)) >= order.indexOf('ERROR')
  );
}

describe('workload sink filter', () => {
  it('asks for container entries only', () => {
    assert.match(filter, /^resource\.type="k8s_container"\nAND \(/);
  });

  it('asks for every needle of every signature in every text field the classifier reads', () => {
    for (const field of textFields()) {
      for (const needle of NEEDLES) assert.ok(filter.includes(`"${needle}"`), `${field}: ${needle}`);
      assert.ok(filter.includes(`${field}:(`), field);
    }
    assert.ok(textFields().includes('jsonPayload.err.message'));
    assert.ok(textFields().includes('jsonPayload.stack_trace'));
  });

  it('routes the gke-metadata-server pods’ errors', () => {
    assert.ok(
      filter.includes(
        '(resource.labels.namespace_name="kube-system" AND resource.labels.container_name="gke-metadata-server" AND (severity>=ERROR OR (severity=DEFAULT AND textPayload=~"^E[0-9]{4} ")))',
      ),
    );
  });

  it('balances its parentheses and stays under Logging’s length limit', () => {
    let depth = 0;
    for (const c of filter.replace(/"[^"]*"/g, '""')) {
      if (c === '(') depth += 1;
      if (c === ')') depth -= 1;
      assert.ok(depth >= 0);
    }
    assert.equal(depth, 0);
    assert.ok(filter.length < MAX_FILTER_CHARS, `${filter.length} characters`);
  });

  it('routes every real-wording sample the classifier recognises', () => {
    for (const sample of matchSamples()) assert.ok(routed(sample), sample.file);
  });

  it('leaves application 403s, token words, health checks and other resources out', () => {
    const out = [
      'app-403',
      'gcs-permission-403',
      'python-forbidden',
      'token-words',
      'health-check',
      'metadata-server-info',
      'other-kube-system-error',
      'not-a-container',
    ];
    for (const name of out) {
      const sample = noiseSamples().find((s) => s.file === `noise/${name}.json`);
      assert.ok(sample, name);
      assert.equal(routed(sample), false, name);
    }
  });
});
