import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DETECTORS, detect, type Finding } from '../../../shared/detect/index.ts';
import {
  FINDING_KINDS,
  type FindingKind,
  HYGIENE_KINDS,
  isPagingKind,
  SELF_CHECK_KINDS,
  SYMPTOM_FINDING_KINDS,
} from '../../../shared/domain/finding.ts';
import type { ChangeEvent } from '../../../shared/events/change-event.ts';
import { applyChange } from '../../../shared/inventory/apply.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { REPO_ROOT } from '../../support/paths.ts';
import { loadSnapshot, ORBIT } from '../../support/snapshots.ts';
import { checkContract, PLACEHOLDER, source } from './cases/case.ts';
import { ALL_CASES, CASES_BY_FILE } from './cases/index.ts';

const DETECT_DIR = join(REPO_ROOT, 'shared/detect');

/** Files that hold several detectors of one family; every other detector lives in `<kind>.ts`. */
const GROUPED: Record<string, readonly FindingKind[]> = {
  'gsa-lifecycle.ts': ['gsa-missing', 'gsa-disabled'],
  'hygiene.ts': HYGIENE_KINDS,
};

/**
 * Kinds that detectors find: every kind but wi-sentinel's own (sentinel-degraded), which the sweep's
 * self-checks find from the sink, the topic and wi-sentinel's permissions, never from an event or the
 * inventory; test/shared/reconcile/self-checks.test.ts holds its findings to the same contract. Nor
 * wi-auth-failures, which the symptom path finds from workloads' logs (test/shared/symptoms).
 */
const FOUND_OUTSIDE_DETECTORS: readonly string[] = [...SELF_CHECK_KINDS, ...SYMPTOM_FINDING_KINDS];
const DETECTED_KINDS = FINDING_KINDS.filter((kind) => !FOUND_OUTSIDE_DETECTORS.includes(kind));

/** Kinds whose repair no audit event shows: the sweep clears them, so no detector case resolves them. */
const RESOLVED_BY_SWEEP_ONLY: readonly FindingKind[] = ['key-file-override', 'gsa-shared'];

/** Kinds no audit event tells of (pod specs are not in the stream): only the sweep finds them. */
const FOUND_BY_SWEEP_ONLY: readonly FindingKind[] = ['key-file-override'];

/**
 * Event cases whose link no sweep can judge, so the agreement table leaves them out (with why):
 * the sweep sees only what the inventory holds.
 */
const SWEEP_CANNOT_SEE: Record<string, string> = {
  'a KSA of a pool the inventory holds no cluster of: named, impact unknown':
    'the KSA lives in a pool no inventoried cluster belongs to',
  'WI turned off for a cluster the inventory does not hold': 'the cluster is not in the inventory',
  're-created under the same email: still firing, the bindings to grant again':
    'a re-created GSA looks like one never bound: the scans report its KSAs as binding-missing, and the sweep keeps the gsa-missing incident open until they are bound (reconcile/sweep.ts)',
};

/** Which detector source files spell `kind: '<kind>'`, per kind. */
function filesByKind(): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const file of readdirSync(DETECT_DIR).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(DETECT_DIR, file), 'utf8');
    for (const [, kind = ''] of text.matchAll(/\bkind: '([a-z-]+)'/g)) {
      const files = map.get(kind) ?? [];
      if (!files.includes(file)) files.push(file);
      map.set(kind, files);
    }
  }
  return map;
}

describe('the detector registry', () => {
  test('every kind of the contract has exactly one detector, and kinds are unique', () => {
    const kinds = DETECTORS.map((d) => d.kind);
    assert.equal(new Set(kinds).size, kinds.length, `duplicate kinds in ${kinds.join(', ')}`);
    assert.deepEqual([...kinds].sort(), [...DETECTED_KINDS].sort());
  });

  test('self-check and symptom kinds page and have no detector', () => {
    for (const kind of FOUND_OUTSIDE_DETECTORS) {
      assert.ok(isPagingKind(kind), `${kind} pages`);
      assert.equal(filesByKind().get(kind), undefined, `no detector file spells ${kind}`);
    }
  });

  test('every detector says what it means, with a PagerDuty severity fit for its kind', () => {
    for (const detector of DETECTORS) {
      assert.ok(detector.title.length > 10, `${detector.kind}: a title`);
      assert.ok(['critical', 'error', 'warning', 'info'].includes(detector.severity), detector.kind);
      if (!isPagingKind(detector.kind)) {
        assert.ok(
          ['warning', 'info'].includes(detector.severity),
          `${detector.kind}: hygiene is never paged`,
        );
      }
    }
  });

  test("each detector's source file is named after its kind (or is its family's file)", async () => {
    const byKind = filesByKind();
    for (const kind of DETECTED_KINDS) {
      const files = byKind.get(kind) ?? [];
      assert.equal(files.length, 1, `${kind} is spelled in exactly one detector file: ${files.join(', ')}`);
      const [file = ''] = files;
      const grouped = GROUPED[file];
      assert.ok(
        file === `${kind}.ts` || grouped?.includes(kind),
        `${kind} lives in ${file}, neither ${kind}.ts nor a family file holding it`,
      );
      const module: Record<string, unknown> = await import(pathToFileURL(join(DETECT_DIR, file)).href);
      const detector = DETECTORS.find((d) => d.kind === kind);
      assert.ok(Object.values(module).includes(detector), `${file} exports the registered ${kind} detector`);
    }
    for (const [file, kinds] of Object.entries(GROUPED)) {
      for (const kind of kinds) assert.deepEqual(byKind.get(kind), [file], `${kind} is in ${file}`);
    }
  });

  test('every detector file has a table of cases, and every case names a known kind', () => {
    const detectorFiles = new Set([...filesByKind().values()].flat());
    assert.deepEqual(Object.keys(CASES_BY_FILE).sort(), [...detectorFiles].sort());
    for (const [file, cases] of Object.entries(CASES_BY_FILE)) {
      for (const c of cases) {
        const home = GROUPED[file] ?? [file.replace(/\.ts$/, '')];
        assert.ok(
          home.includes(c.kind),
          `${file}: case "${c.name}" tests ${c.kind}, not a detector of that file`,
        );
      }
    }
  });
});

describe('detector cases cover every kind', () => {
  for (const kind of DETECTED_KINDS) {
    const cases = ALL_CASES.filter((c) => c.kind === kind);
    const expected = cases.flatMap((c) => c.want);

    test(`${kind}: a positive firing case and a negative case`, () => {
      assert.ok(
        expected.some((w) => w.status === 'firing'),
        `${kind} has a case that fires`,
      );
      assert.ok(
        cases.some((c) => c.want.length === 0),
        `${kind} has a case that finds nothing`,
      );
    });

    test(`${kind}: judged with and without an inventory`, () => {
      assert.ok(
        cases.some((c) => c.snapshot !== undefined),
        `${kind} has a case with a snapshot`,
      );
      if (!FOUND_BY_SWEEP_ONLY.includes(kind)) {
        assert.ok(
          cases.some((c) => c.snapshot === undefined),
          `${kind} has a case without a snapshot`,
        );
      }
    });

    test(`${kind}: every resolved case resolves a fingerprint some case fires`, () => {
      const firing = new Set(expected.filter((w) => w.status === 'firing').map((w) => w.fingerprint));
      const resolved = expected.filter((w) => w.status === 'resolved');
      if (RESOLVED_BY_SWEEP_ONLY.includes(kind)) {
        assert.deepEqual(resolved, [], `${kind} is not resolved by an event`);
        return;
      }
      assert.ok(resolved.length > 0, `${kind} has a case that resolves`);
      for (const w of resolved) {
        assert.ok(firing.has(w.fingerprint), `${w.fingerprint}: resolved, but no case fires it`);
      }
    });
  }
});

describe('every kind is swept', () => {
  for (const kind of DETECTED_KINDS) {
    const scans = ALL_CASES.filter((c) => c.kind === kind && c.event === undefined);

    test(`${kind}: a scan, with a positive and a negative scan case`, () => {
      assert.equal(typeof DETECTORS.find((d) => d.kind === kind)?.scan, 'function', `${kind} scans`);
      assert.ok(
        scans.some((c) => c.want.some((w) => w.status === 'firing')),
        `${kind} has a scan case that fires`,
      );
      assert.ok(
        scans.some((c) => c.want.length === 0),
        `${kind} has a scan case that finds nothing`,
      );
      for (const c of scans) {
        assert.ok(
          c.want.every((w) => w.status === 'firing'),
          `${c.name}: a scan only fires (the sweep resolves)`,
        );
      }
    });
  }

  /**
   * The agreement table, over every event case with an inventory: the inventory after the change,
   * scanned, fires exactly the fingerprints the event fired and none of those it resolved. So an
   * incident an event opened is confirmed by the next sweep, and one it resolved stays resolved.
   */
  const judged = ALL_CASES.filter(
    (c) => c.event && c.snapshot && c.want.length > 0 && SWEEP_CANNOT_SEE[c.name] === undefined,
  );
  test('the agreement table covers every kind an event tells of', () => {
    const kinds = new Set(judged.map((c) => c.kind));
    const told = DETECTED_KINDS.filter((kind) => !FOUND_BY_SWEEP_ONLY.includes(kind));
    assert.deepEqual([...kinds].sort(), [...told].sort());
    assert.ok(judged.length >= 40, `${judged.length} cases in the table`);
  });
  for (const c of judged) {
    test(`the sweep after "${c.name}" agrees with detect`, () => {
      const event = c.event as ChangeEvent;
      const snapshot = c.snapshot as Snapshot;
      const after = applyChange(snapshot, event);
      const swept = new Set(
        (DETECTORS.find((d) => d.kind === c.kind)?.scan?.(after) ?? []).map((f) => f.fingerprint),
      );
      for (const finding of detect(event, snapshot).filter((f) => f.kind === c.kind)) {
        if (finding.status === 'firing') {
          assert.ok(swept.has(finding.fingerprint), `the sweep fires ${finding.fingerprint} too`);
        } else {
          assert.ok(!swept.has(finding.fingerprint), `the sweep finds ${finding.fingerprint} healthy`);
        }
      }
    });
  }

  test('the links no sweep can see are still event cases', () => {
    for (const name of Object.keys(SWEEP_CANNOT_SEE)) {
      assert.ok(
        ALL_CASES.some((c) => c.name === name && c.event),
        `"${name}" names an event case`,
      );
    }
  });
});

/** Each case's event through every detector (what the pipeline does), plus every detector's scan. */
function everyFinding(): { label: string; finding: Finding }[] {
  const out: { label: string; finding: Finding }[] = [];
  const snapshots = new Set<Snapshot>();
  for (const c of ALL_CASES) {
    if (c.snapshot) snapshots.add(c.snapshot);
    if (c.event) for (const finding of detect(c.event, c.snapshot)) out.push({ label: c.name, finding });
  }
  for (const snapshot of snapshots) {
    for (const detector of DETECTORS) {
      for (const finding of detector.scan?.(snapshot) ?? [])
        out.push({ label: `scan ${detector.kind}`, finding });
    }
  }
  return out;
}

describe('every finding the cases produce', () => {
  const all = everyFinding();

  test('there are firing findings of every kind among them', () => {
    const kinds = new Set(all.filter((f) => f.finding.status === 'firing').map((f) => f.finding.kind));
    assert.deepEqual([...kinds].sort(), [...DETECTED_KINDS].sort());
  });

  test('firing: a non-empty remediation with real names; resolved: none', () => {
    for (const { label, finding } of all) {
      assert.doesNotThrow(() => checkContract(finding), `${label}: ${finding.fingerprint}`);
    }
  });

  test('no remediation command holds a placeholder or `undefined`', () => {
    const commands = all.flatMap(({ finding }) => finding.remediation ?? []).map((step) => step.command);
    assert.ok(commands.length > 50, `${commands.length} commands checked`);
    for (const command of commands) {
      assert.doesNotMatch(command, PLACEHOLDER);
      assert.doesNotMatch(command, /undefined/);
    }
  });

  test('the placeholder pattern catches the guide placeholders', () => {
    for (const template of [
      'gcloud container node-pools update POOL --cluster CLUSTER --location LOCATION',
      'gcloud iam service-accounts add-iam-policy-binding GSA_EMAIL',
      '--member "serviceAccount:PROJECT_ID.svc.id.goog[NS/KSA]"',
      'kubectl exec -n <NAMESPACE> pod',
    ]) {
      assert.match(template, PLACEHOLDER);
    }
  });
});

describe('detectors are pure and never throw on odd data', () => {
  test('judging leaves the inventory as it was', () => {
    const snapshots = [...new Set(ALL_CASES.flatMap((c) => (c.snapshot ? [c.snapshot] : [])))];
    const before = snapshots.map((s) => JSON.stringify(s));
    everyFinding();
    assert.deepEqual(
      snapshots.map((s) => JSON.stringify(s)),
      before,
    );
  });

  test('the same input gives the same findings', () => {
    for (const c of ALL_CASES.filter((c) => c.event)) {
      assert.deepEqual(
        detect(c.event as ChangeEvent, c.snapshot),
        detect(c.event as ChangeEvent, c.snapshot),
        c.name,
      );
    }
  });

  const empty: Snapshot = { projects: [] };
  const odd: ChangeEvent[] = [
    {
      type: 'gsa-policy',
      source: source('SetIamPolicy'),
      project: '',
      gsa: '',
      deltas: [
        { action: 'REMOVE', role: 'roles/iam.workloadIdentityUser', member: '' },
        { action: 'REMOVE', role: 'roles/iam.workloadIdentityUser', member: 'serviceAccount:' },
        { action: 'ADD', role: 'roles/iam.workloadIdentityUser', member: 'serviceAccount:.svc.id.goog[/]' },
      ],
      policy: { bindings: [{ role: 'roles/iam.workloadIdentityUser', members: [] }] },
    },
    { type: 'project-policy', source: source('SetIamPolicy'), project: 'p', resource: 'p', deltas: [] },
    { type: 'gsa-lifecycle', source: source('DeleteServiceAccount'), project: 'p', action: 'delete' },
    {
      type: 'nodepool',
      source: source('UpdateNodePool'),
      project: 'p',
      action: 'update',
      cluster: { location: '', name: '' },
      nodePool: '',
      metadataServer: false,
    },
    {
      type: 'cluster',
      source: source('CreateCluster'),
      project: 'p',
      action: 'create',
      cluster: { location: 'l', name: 'c' },
      workloadPool: 'p.svc.id.goog',
      nodePools: [],
    },
    {
      type: 'k8s-serviceaccount',
      source: source('patch'),
      project: ORBIT.project,
      action: 'patch',
      cluster: ORBIT.core,
      namespace: '',
      name: '',
      annotations: {},
      requestedGsa: '',
    },
    {
      type: 'k8s-networkpolicy',
      source: source('create'),
      project: ORBIT.project,
      action: 'create',
      cluster: ORBIT.core,
      namespace: 'checkout',
      name: 'odd',
      policy: {
        metadata: { name: 'odd' },
        spec: {
          podSelector: null,
          policyTypes: null,
          egress: [{ to: [{}, { ipBlock: { cidr: '' } }], ports: [{ port: '', endPort: -1 }] }],
        },
      },
    },
  ];
  for (const event of odd) {
    test(`an odd ${event.type} event`, () => {
      for (const snapshot of [undefined, empty, loadSnapshot()]) {
        const findings = detect(event, snapshot);
        assert.ok(Array.isArray(findings));
        for (const finding of findings) assert.ok(FINDING_KINDS.includes(finding.kind));
      }
    });
  }

  test('a scan of an empty inventory', () => {
    for (const detector of DETECTORS) assert.deepEqual(detector.scan?.(empty) ?? [], []);
  });
});
