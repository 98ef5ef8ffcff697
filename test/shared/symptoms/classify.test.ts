import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode } from '../../../shared/events/decode.ts';
import type { LogEntry } from '../../../shared/events/schemas.ts';
import { classifySymptom, type SymptomResult, textOf } from '../../../shared/symptoms/classify.ts';
import { asDelivery, matchSamples, noiseSamples } from './fixtures.ts';

function sampleRaw(file: string): Record<string, unknown> {
  const found = [...matchSamples(), ...noiseSamples()].find((s) => s.file === file);
  assert.ok(found, file);
  return structuredClone(found.raw);
}

function classifyRaw(raw: unknown): SymptomResult {
  const decoded = decode(raw);
  if (!decoded.ok) assert.fail(decoded.error);
  return classifySymptom(decoded.delivery.entry);
}

function symptomOf(raw: unknown) {
  const result = classifyRaw(raw);
  if (result.type !== 'symptom') assert.fail(`ignored: ${result.reason}`);
  return result.symptom;
}

function ignoredReason(raw: unknown): string {
  const result = classifyRaw(raw);
  if (result.type !== 'ignored') assert.fail(`recognised as ${result.symptom.signature}`);
  return result.reason;
}

describe('classifySymptom: what a symptom says', () => {
  it('names the project, cluster, namespace, pod, container, node, time and insertId from the entry', () => {
    const raw = sampleRaw('match/go/metadata-unreachable.json');
    assert.deepEqual(
      { ...symptomOf(raw), message: '' },
      {
        kind: 'metadata-unreachable',
        library: 'go',
        signature: 'go/metadata-unreachable',
        project: 'orbit-prod',
        cluster: { location: 'europe-west4', name: 'core-1' },
        namespace: 'checkout',
        pod: 'cart-6d8-b',
        container: 'cart',
        node: 'gke-core-1-spot-0b7d41c2-m2zt',
        message: '',
        time: '2026-11-28T10:02:14.000088Z',
        insertId: raw.insertId,
      },
    );
  });

  it('arrives the same through the Eventarc CloudEvent wrapper', () => {
    const raw = sampleRaw('match/java/token-denied.json');
    assert.deepEqual(symptomOf(asDelivery(raw)), symptomOf(raw));
  });

  it('reads structured payloads: msg and error (zap), err.message and err.stack (pino), stack_trace (logback)', () => {
    const go = sampleRaw('match/go/token-denied.json');
    assert.equal(symptomOf(go).signature, 'go/token-denied');
    const node = sampleRaw('match/node/token-denied.json');
    assert.equal(symptomOf(node).signature, 'node/token-denied');
    const java = sampleRaw('match/java/token-denied.json');
    assert.match(textOf(decodeEntry(java)), /^Failed to load the price table/);
    assert.equal(symptomOf(java).signature, 'java/token-denied');
  });

  it('falls back to receiveTimestamp when timestamp is missing', () => {
    const raw = sampleRaw('match/python/no-credentials.json');
    delete raw.timestamp;
    assert.equal(symptomOf(raw).time, raw.receiveTimestamp);
  });

  it('keeps a redacted sample: tokens in the failing line do not reach the symptom', () => {
    const raw = sampleRaw('match/node/metadata-server-error.json');
    const token = 'ya29.a0AfB_byC1x2y3z4-ABCDEFGHIJKLMNOP_qrstuvWXYZ0123456789';
    raw.textPayload = `retrying with Authorization: Bearer ${token}\n${String(raw.textPayload)}`;
    const symptom = symptomOf(raw);
    assert.equal(symptom.message.includes(token.slice(5)), false, 'the token survived');
    assert.ok(symptom.message.includes('Could not refresh access token'));
  });

  it('centres the sample on the wording when the text is long', () => {
    const raw = sampleRaw('match/java/metadata-unreachable.json');
    raw.textPayload = `${'\tat io.orbit.Frame.call(Frame.java:1)\n'.repeat(400)}${String(raw.textPayload)}`;
    const symptom = symptomOf(raw);
    assert.ok(symptom.message.length <= 602);
    assert.ok(symptom.message.includes('ComputeEngineCredentials cannot find the metadata server'));
  });
});

function decodeEntry(raw: unknown): LogEntry {
  const decoded = decode(raw);
  if (!decoded.ok) assert.fail(decoded.error);
  return decoded.delivery.entry;
}

describe('classifySymptom: the gke-metadata-server pods', () => {
  const pod = () => sampleRaw('match/gke-metadata-server/metadata-server-error--pod.json');

  it('turns their errors into metadata-server-error whatever the wording (which is not public)', () => {
    const raw = pod();
    raw.textPayload = 'anything at all';
    const symptom = symptomOf(raw);
    assert.equal(symptom.kind, 'metadata-server-error');
    assert.equal(symptom.signature, 'gke-metadata-server/pod');
    assert.equal(symptom.namespace, 'kube-system');
  });

  it('takes numeric severities and klog error lines without a severity', () => {
    const numeric = pod();
    numeric.severity = 500;
    assert.equal(symptomOf(numeric).kind, 'metadata-server-error');
    const klog = pod();
    delete klog.severity;
    assert.equal(symptomOf(klog).kind, 'metadata-server-error');
    const info = pod();
    delete info.severity;
    info.textPayload = 'I1128 10:02:57.001845       1 main.go:88] serving';
    assert.match(ignoredReason(info), /below ERROR/);
  });

  it('ignores its warnings', () => {
    const raw = pod();
    raw.severity = 'WARNING';
    assert.match(ignoredReason(raw), /below ERROR/);
  });
});

describe('classifySymptom: what is ignored, and why', () => {
  it('entries of other resources', () => {
    assert.match(
      ignoredReason(sampleRaw('noise/not-a-container.json')),
      /not a k8s_container entry \(resource type k8s_node\)/,
    );
  });

  it('entries without text', () => {
    const raw = sampleRaw('match/go/no-credentials.json');
    delete raw.textPayload;
    raw.jsonPayload = { level: 'error', count: 3 };
    assert.equal(ignoredReason(raw), 'no text payload');
  });

  it('entries missing resource labels, naming them', () => {
    const raw = sampleRaw('match/go/no-credentials.json');
    const labels = (raw.resource as { labels: Record<string, string> }).labels;
    delete labels.pod_name;
    labels.cluster_name = '';
    assert.equal(ignoredReason(raw), 'k8s_container entry without resource labels cluster_name, pod_name');
  });

  it('entries without a valid timestamp', () => {
    const raw = sampleRaw('match/go/no-credentials.json');
    raw.timestamp = 'yesterday';
    delete raw.receiveTimestamp;
    assert.equal(ignoredReason(raw), 'entry without a valid timestamp');
  });

  it('never throws on odd payloads', () => {
    for (const jsonPayload of [{ message: 42 }, { err: null }, { error: ['a'] }, { msg: { nested: true } }]) {
      const raw = sampleRaw('match/go/no-credentials.json');
      delete raw.textPayload;
      raw.jsonPayload = jsonPayload;
      assert.equal(classifyRaw(raw).type, 'ignored');
    }
  });
});
