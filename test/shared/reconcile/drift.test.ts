import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DETECTORS } from '../../../shared/detect/index.ts';
import type { Finding } from '../../../shared/domain/finding.ts';
import { step } from '../../../shared/incidents/lifecycle.ts';
import { readSnapshotFile } from '../../../shared/live/snapshot-file.ts';
import { settle, sweep } from '../../../shared/reconcile/sweep.ts';
import { judge } from '../../support/judge.ts';
import { FIXTURES } from '../../support/paths.ts';
import { checkContract } from '../detect/cases/case.ts';

/**
 * The drift corpus (test/fixtures/drift): each file is a Snapshot with a `description` and the
 * findings the sweep must give for it (`expect`), judged as the wi-events cases are, and stricter:
 * the sweep gives exactly those, hygiene kinds included. The CLI runs the same files (test/cli).
 */
const DIR = join(FIXTURES, 'drift');
const files = readdirSync(DIR).filter((file) => file.endsWith('.json'));
const at = new Date('2026-11-29T06:00:00.000Z');

interface DriftCase {
  file: string;
  description: string;
  expect: Record<string, unknown>[];
  findings: Finding[];
  projects: string[];
}

const cases: DriftCase[] = files.map((file) => {
  const raw = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as {
    description: string;
    expect: Record<string, unknown>[];
  };
  const snapshot = readSnapshotFile(join(DIR, file));
  const projects = snapshot.projects.map((p) => p.projectId);
  return {
    file,
    description: raw.description,
    expect: raw.expect,
    findings: sweep(snapshot, { projects }),
    projects,
  };
});

describe('the drift corpus', () => {
  test('a healthy organization and at least one drift of every kind', () => {
    assert.deepEqual(cases.find((c) => c.file === 'healthy.json')?.expect, []);
    const kinds = new Set(cases.flatMap((c) => c.expect.map((e) => e.kind)));
    const swept = DETECTORS.map((d) => d.kind);
    assert.deepEqual([...kinds].sort(), [...swept].sort());
    for (const kind of swept) {
      assert.ok(
        cases.some((c) => c.file === `${kind}.json`),
        `${kind}.json`,
      );
    }
  });

  for (const c of cases) {
    test(`${c.file}: ${c.description}`, () => {
      const printed = c.findings.map((f) => JSON.parse(JSON.stringify(f)) as Record<string, unknown>);
      assert.deepEqual(judge(c.expect, printed), []);
      assert.equal(printed.length, c.expect.length, 'nothing beyond what is expected, hygiene included');
      for (const finding of c.findings) {
        checkContract(finding);
        assert.equal(finding.cause, undefined, 'a sweep names no actor');
        assert.match(finding.summary, /found by the sweep/);
      }
    });
  }

  test('every drift, once open, is resolved by a sweep of the healthy organization', () => {
    const healthy = readSnapshotFile(join(DIR, 'healthy.json'));
    const projects = healthy.projects.map((p) => p.projectId);
    const findings = cases.flatMap((c) => c.findings);
    const open = findings.map((finding) => {
      const { next } = step(undefined, finding, 'event', at);
      assert.ok(next);
      return next;
    });
    const verdict = settle(sweep(healthy, { projects }), open, { projects, snapshot: healthy, at });
    assert.deepEqual(
      verdict.map((f) => `${f.status} ${f.fingerprint}`).sort(),
      [...new Set(findings.map((f) => `resolved ${f.fingerprint}`))].sort(),
    );
    for (const finding of verdict) {
      checkContract(finding);
      assert.match(finding.summary, /^the sweep of 2026-11-29T06:00:00\.000Z found .+ healthy$/);
    }
  });
});
