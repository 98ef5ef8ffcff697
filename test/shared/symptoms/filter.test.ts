import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_FILTER_LENGTH } from '../../../shared/events/sink-filter.ts';
import { routes, textFields, workloadSinkFilter } from '../../../shared/symptoms/filter.ts';
import { NEEDLES, SIGNATURES } from '../../../shared/symptoms/signatures.ts';
import { compileFilter } from '../../support/logging-filter.ts';

const filter = workloadSinkFilter();
const passes = compileFilter(filter);

function container(textPayload: string, severity = 'INFO'): Record<string, unknown> {
  return {
    resource: {
      type: 'k8s_container',
      labels: { namespace_name: 'checkout', container_name: 'cart', pod_name: 'cart-6d8-a' },
    },
    severity,
    textPayload,
  };
}

describe('workload sink filter: generated from the signatures’ rules', () => {
  it('asks for container entries only', () => {
    assert.match(filter, /^resource\.type="k8s_container"\nAND \(/);
  });

  it('routes every needle some signature accepts alone, in every text field the classifier reads', () => {
    const [alone] = routes();
    assert.ok(alone && alone.alongside === undefined);
    for (const signature of SIGNATURES.filter((s) => !s.alongside)) {
      for (const needle of signature.needles) assert.ok(alone.needles.includes(needle), needle);
    }
    for (const field of textFields()) assert.ok(filter.includes(`${field}:(`), field);
    assert.ok(textFields().includes('jsonPayload.err.message'));
    assert.ok(textFields().includes('jsonPayload.stack_trace'));
  });

  it('asks for a broad needle only beside one of its alongside terms: one rule per list of terms', () => {
    const rules = routes().slice(1);
    assert.ok(rules.length >= 2);
    for (const signature of SIGNATURES.filter((s) => s.alongside)) {
      const rule = rules.find((r) => r.alongside === signature.alongside);
      assert.ok(rule, signature.id);
      for (const needle of signature.needles) {
        assert.ok(
          rule.needles.includes(needle) || routes()[0]?.needles.includes(needle),
          `${signature.id}: ${needle}`,
        );
      }
    }
    const all = new Set(routes().flatMap((r) => r.needles));
    assert.deepEqual([...all].sort(), [...NEEDLES].sort());
  });

  it('has no severity floor: a failure logged at INFO or with no severity is routed', () => {
    const line = 'Error code 404 trying to get security access token from Compute Engine metadata';
    for (const severity of ['DEFAULT', 'DEBUG', 'INFO', 'WARNING', 'ERROR']) {
      assert.equal(passes(container(line, severity)), true, severity);
    }
  });

  it('keeps the gke-metadata-server rule: its errors, and klog E lines without a severity', () => {
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
    assert.ok(filter.length < MAX_FILTER_LENGTH, `${filter.length} characters`);
  });
});
