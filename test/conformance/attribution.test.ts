import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { attribute, type Tool } from '../../shared/domain/attribution.ts';
import { classify } from '../../shared/events/classify.ts';
import { decode } from '../../shared/events/decode.ts';
import { sharedFixturesDir } from '../support/paths.ts';

// The public audit samples (../shared/fixtures/public, see its SOURCES.md) made by known tools: each
// is attributed to the tool its user agent and principal name. `null`: the entry records neither
// (an operation's last entry, an abridged docs sample), so no tool is named.
const dir = join(sharedFixturesDir() ?? '', 'public');

const TOOLS: Record<string, Tool | null> = {
  'A-1.json': 'console',
  'A-2.json': null,
  'A-3.json': 'gcloud',
  'A-4.json': 'console',
  'B-1.json': 'console',
  'B-2.json': 'console',
  'B-3.json': 'console',
  'B-4.json': null,
  'C-1.json': 'terraform',
  'C-2.json': null,
  'C-3.json': 'terraform',
  'C-4.json': null,
  'C-5.json': 'terraform',
  'C-6.json': null,
  'C-7.json': 'unknown',
  'C-8.json': 'unknown',
  'C-9.json': 'terraform',
  'C-10.json': 'terraform',
  'C-11.json': null,
  'C-12.json': 'unknown',
  // kubectl run by GKE's addon manager, and a kube-system controller: Kubernetes itself.
  'D-1.json': 'kubernetes',
  'D-2.json': 'kubernetes',
  'D-3.json': 'console',
  'E-4.json': 'gcloud',
};

describe('attribution conformance: public audit samples', () => {
  const audits = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .filter((file) => {
      const decoded = decode(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      return decoded.ok && decoded.delivery.entry.protoPayload !== undefined;
    })
    .sort();

  test('every audit entry among the samples has a row', () => {
    assert.deepEqual(audits, Object.keys(TOOLS).sort());
  });

  for (const file of audits) {
    test(`${file} → ${TOOLS[file] ?? 'no tool'}`, () => {
      const decoded = decode(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      assert.ok(decoded.ok);
      const source = classify(decoded.delivery.entry).source;
      const via = source ? attribute(source) : undefined;
      assert.equal(via?.tool ?? null, TOOLS[file], JSON.stringify(via));
    });
  }
});
