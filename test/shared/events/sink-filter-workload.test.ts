import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SINK_FILTERS } from '../../../cli/sink-filter.ts';
import type { LogEntry } from '../../../shared/events/schemas.ts';
import { MAX_FILTER_LENGTH } from '../../../shared/events/sink-filter.ts';
import { classifySymptom, NESTED_TEXT_FIELDS, TEXT_FIELDS } from '../../../shared/symptoms/classify.ts';
import { routes, workloadSinkFilter } from '../../../shared/symptoms/filter.ts';
import { LIBRARIES, METADATA_SERVER_POD, NEEDLES } from '../../../shared/symptoms/signatures.ts';
import { compileFilter } from '../../support/logging-filter.ts';
import { REPO_ROOT } from '../../support/paths.ts';
import { readSample, sampleFiles } from '../symptoms/fixtures.ts';

// The workload sink, as infra/ deploys it (the generated file), run over the symptom fixtures with
// the Logging query evaluator: every real-wording sample passes, the noise is blocked, except noise
// that quotes a needle, which the Log Router cannot tell apart and the classifier then drops.
const FILTER_FILE = join(REPO_ROOT, 'infra', 'filters', 'workload.filter');
const passesWorkloadSink = compileFilter(readFileSync(FILTER_FILE, 'utf8'));

/**
 * Noise the sink routes on purpose: each quotes a needle and one of its alongside terms, as real
 * failures do, so only the classifier's patterns can tell it apart. Routing costs a little; missing
 * a Go or Node dial error to 169.254.169.254 would cost an outage. The symptoms bench measures the
 * share of a realistic noise corpus this lets through.
 */
const ROUTED_NOISE: Record<string, string> = {
  'noise/aws-imds-timeout.json': 'AWS IMDS timing out at 169.254.169.254',
  'noise/azure-imds-refused.json': 'Azure IMDS refusing at 169.254.169.254',
  'noise/azure-dotnet-imds.json': 'Azure.Identity refused at (169.254.169.254:80)',
  'noise/istio-proxy-azure-timeout.json': 'istio-agent probing Azure metadata, deadline exceeded',
  'noise/startup-config-metadata.json': 'settings naming metadata.google.internal and a timeout',
  'noise/node-v3-api-disabled-403.json': 'the old Node wrapper’s token words on an API’s 403',
  'noise/node-v3-permission-403.json': 'the old Node wrapper’s token words on a permission 403',
  'noise/java-api-403.json': 'an API’s HttpResponseException 403',
};

function fixtures(side: 'match' | 'noise'): { name: string; entry: LogEntry }[] {
  return sampleFiles(side).map((name) => ({ name, entry: readSample(name) as LogEntry }));
}

function container(payload: Partial<LogEntry>, labels: Record<string, string> = {}): LogEntry {
  return {
    insertId: 'x1',
    timestamp: '2026-11-28T10:00:00Z',
    resource: {
      type: 'k8s_container',
      labels: {
        project_id: 'orbit-prod',
        location: 'europe-west4',
        cluster_name: 'core-1',
        namespace_name: 'checkout',
        pod_name: 'cart-6d8-a',
        container_name: 'cart',
        ...labels,
      },
    },
    ...payload,
  } as LogEntry;
}

describe('workload sink filter', () => {
  test('the workload sink is the symptom filter (sink-filter.test.ts keeps the file in sync)', () => {
    assert.equal(SINK_FILTERS.workload?.(), workloadSinkFilter());
  });

  test(`fits Logging's ${MAX_FILTER_LENGTH}-character limit with room to grow`, () => {
    const length = workloadSinkFilter().length;
    assert.ok(length < MAX_FILTER_LENGTH * 0.75, `${length} characters`);
  });

  describe('every real-wording sample passes, and the classifier takes it', () => {
    const matches = fixtures('match');
    test('the samples cover every library', () => {
      assert.ok(matches.length >= 90, `only ${matches.length} samples`);
      const libraries = new Set(matches.map(({ name }) => name.split('/')[1]));
      assert.deepEqual([...libraries].sort(), [...LIBRARIES].sort());
    });
    for (const { name, entry } of matches) {
      test(name, () => {
        assert.equal(passesWorkloadSink(entry), true, `${name} is blocked by the sink`);
        assert.equal(classifySymptom(entry).type, 'symptom', `${name} passes but is not a symptom`);
      });
    }
  });

  describe('noise is blocked, or routed only where it quotes a needle, and then the classifier drops it', () => {
    const noise = fixtures('noise');
    test('the noise covers application 403s, other errors and look-alikes', () => {
      assert.ok(noise.length >= 10, `only ${noise.length} noise fixtures`);
      for (const name of Object.keys(ROUTED_NOISE))
        assert.ok(
          noise.some((n) => n.name === name),
          `${name} is gone: update ROUTED_NOISE`,
        );
    });
    for (const { name, entry } of noise) {
      test(name, () => {
        assert.equal(
          passesWorkloadSink(entry),
          name in ROUTED_NOISE,
          ROUTED_NOISE[name] ?? 'noise must be blocked',
        );
        assert.equal(classifySymptom(entry).type, 'ignored');
      });
    }
  });

  test('every rule passes in every text field the classifier reads, whatever its case', () => {
    for (const { needles, alongside } of routes()) {
      for (const needle of needles) {
        const line = `boom: ${needle} (attempt 3${alongside ? `: ${alongside[0]}` : ''})`;
        const variants: Partial<LogEntry>[] = [
          { textPayload: line },
          { textPayload: line.toUpperCase() },
          ...TEXT_FIELDS.map((field) => ({ jsonPayload: { [field]: line } })),
          ...['error', 'err'].flatMap((field) =>
            NESTED_TEXT_FIELDS.map((inner) => ({ jsonPayload: { [field]: { [inner]: line } } })),
          ),
        ];
        for (const payload of variants) {
          assert.equal(
            passesWorkloadSink(container(payload)),
            true,
            `${needle} in ${JSON.stringify(payload)}`,
          );
        }
      }
    }
  });

  test('a broad needle is routed beside one of its terms, in any text field, and blocked alone', () => {
    for (const { needles, alongside } of routes()) {
      if (alongside === undefined) continue;
      for (const needle of needles) {
        const alone = `GET ${needle} 200 in 3 ms`;
        for (const severity of ['INFO', 'ERROR'])
          assert.equal(passesWorkloadSink(container({ textPayload: alone, severity })), false, alone);
        const split: Partial<LogEntry> = {
          jsonPayload: { message: alone, error: `then: ${alongside[alongside.length - 1]}` },
        };
        assert.equal(passesWorkloadSink(container(split)), true, `${needle} split across fields`);
      }
    }
  });

  test('a needle elsewhere is blocked: another resource type, a field the classifier does not read', () => {
    const needle = NEEDLES[0] as string;
    for (const type of ['k8s_node', 'k8s_pod', 'gce_instance', 'cloud_run_revision']) {
      const entry = { ...container({ textPayload: needle }), resource: { type, labels: {} } };
      assert.equal(passesWorkloadSink(entry), false, type);
    }
    assert.equal(passesWorkloadSink(container({ jsonPayload: { detail: needle } })), false);
    assert.equal(passesWorkloadSink(container({ labels: { note: needle } })), false);
  });

  test('gke-metadata-server: its errors pass whatever they say, its lower severities only with a refusal', () => {
    const labels = {
      namespace_name: METADATA_SERVER_POD.namespace,
      container_name: METADATA_SERVER_POD.container,
      pod_name: 'gke-metadata-server-7xk2p',
    };
    const line = { textPayload: 'E1128 10:02:57.001845 1 main.go:212] something unheard of' };
    for (const severity of ['ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'])
      assert.equal(passesWorkloadSink(container({ ...line, severity }, labels)), true, severity);
    for (const severity of ['DEBUG', 'INFO', 'NOTICE', 'WARNING'])
      assert.equal(passesWorkloadSink(container({ ...line, severity }, labels)), false, severity);
    // An unstructured klog line has no severity: its `E` prefix says error, as the classifier reads it.
    assert.equal(passesWorkloadSink(container({ ...line, severity: 'DEFAULT' }, labels)), true);
    const info = { textPayload: 'I1128 10:02:57.001845 1 main.go:212] serving' };
    assert.equal(passesWorkloadSink(container({ ...info, severity: 'DEFAULT' }, labels)), false);
    // Below ERROR, a line that quotes the IAM refusal passes through the signatures' rule.
    const refusal = {
      textPayload:
        'W1128 10:02:59.220101 1 metadata.go:151] Handler returns generic::not_found: Unable to generate access token; IAM returned 404 Not Found',
    };
    assert.equal(passesWorkloadSink(container({ ...refusal, severity: 'WARNING' }, labels)), true);
    // The same error from a pod of that name in another namespace, or another kube-system container.
    const elsewhere = { ...line, severity: 'ERROR' };
    assert.equal(passesWorkloadSink(container(elsewhere, { ...labels, namespace_name: 'default' })), false);
    assert.equal(passesWorkloadSink(container(elsewhere, { ...labels, container_name: 'kubedns' })), false);
  });
});
