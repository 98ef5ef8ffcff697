import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isPagingKind } from '../../shared/domain/finding.ts';
import type { Envelope } from '../../shared/events/decode.ts';
import { type Analysis, analyze } from '../../shared/pipeline.ts';
import { sharedFixturesDir } from '../support/paths.ts';

// Verbatim public audit-log samples (../shared/fixtures/public, see its SOURCES.md): none records a
// Workload Identity break, so whatever they are, they must decode or fail cleanly and page nobody.
const dir = join(sharedFixturesDir() ?? '', 'public');

type Row =
  | {
      outcome: 'change';
      envelope?: Envelope;
      /** Fields the ChangeEvent must carry, compared exactly; keys set to undefined must be absent. */
      event: Record<string, unknown>;
      /**
       * Paging-kind findings the detectors fire without an inventory, as `kind`. Each is a known
       * deviation from "public samples page nobody", named so a change either way is noticed.
       */
      knownPages?: string[];
    }
  | { outcome: 'ignored'; envelope?: Envelope; reason: RegExp }
  | { outcome: 'invalid'; error: RegExp };

const NOT_A_LOG_ENTRY = /^Pub\/Sub message data is not a JSON LogEntry: /;
const ASSET_FEED = /^a Cloud Asset Inventory feed message, not a LogEntry/;

/** One row per file: a new sample without a row fails the suite. */
const ROWS: Record<string, Row> = {
  'A-1.json': {
    outcome: 'change',
    event: {
      type: 'gsa-policy',
      project: 'gcp-project1',
      gsa: 'test-account3@gcp-project1.iam.gserviceaccount.com',
      gsaUniqueId: '105537103139416651075',
      deltas: [
        {
          action: 'ADD',
          role: 'roles/iam.serviceAccountTokenCreator',
          member: 'serviceAccount:test-account3@gcp-project1.iam.gserviceaccount.com',
        },
        {
          action: 'ADD',
          role: 'roles/iam.serviceAccountUser',
          member: 'serviceAccount:test-account3@gcp-project1.iam.gserviceaccount.com',
        },
      ],
    },
  },
  // Abridged docs sample: no delta, no labels; the GSA comes from request.resource, the project from logName.
  'A-2.json': {
    outcome: 'change',
    event: {
      type: 'gsa-policy',
      project: 'my-project',
      gsa: 'my-service-account@my-project.iam.gserviceaccount.com',
      gsaUniqueId: undefined,
      deltas: [],
    },
  },
  'A-3.json': {
    outcome: 'change',
    event: {
      type: 'project-policy',
      project: 'project-id',
      resource: 'projects/project-id',
      deltas: [
        {
          action: 'ADD',
          role: 'roles/resourcemanager.projectIamAdmin',
          member: 'serviceAccount:project-id@cloudservices.gserviceaccount.com',
        },
      ],
    },
  },
  // Hand-edited: serviceName sits outside protoPayload, so the service is unknown.
  'A-4.json': {
    outcome: 'ignored',
    reason: /^SetIamPolicy on an unnamed service does not touch Workload Identity$/,
  },
  'B-1.json': {
    outcome: 'change',
    event: {
      type: 'gsa-lifecycle',
      action: 'disable',
      project: 'imran-49253',
      gsa: 'im-service-account-private@imran-49253.iam.gserviceaccount.com',
      gsaUniqueId: '109840067714345269337',
    },
    // Without an inventory the detector cannot tell a WI GSA from any other and fires for every disable.
    knownPages: ['gsa-disabled'],
  },
  'B-2.json': {
    outcome: 'change',
    event: {
      type: 'gsa-lifecycle',
      action: 'enable',
      project: 'imran-49253',
      gsa: 'im-service-account-private@imran-49253.iam.gserviceaccount.com',
      gsaUniqueId: '109840067714345269337',
    },
  },
  // snake_case response (`unique_id`) and Panther's `callerIP`.
  'B-3.json': {
    outcome: 'change',
    event: {
      type: 'gsa-lifecycle',
      action: 'create',
      project: 'gcp-project1',
      gsa: 'created-service-account@gcp-project1.iam.gserviceaccount.com',
      gsaUniqueId: '103995727391704507722',
    },
  },
  // Abridged: no labels, no logName; the project comes from the email.
  'B-4.json': {
    outcome: 'change',
    event: {
      type: 'gsa-lifecycle',
      action: 'create',
      project: 'my-project',
      gsa: 'my-service-account@my-project.iam.gserviceaccount.com',
      gsaUniqueId: undefined,
    },
  },
  // Created without Workload Identity: null, not absent.
  'C-1.json': {
    outcome: 'change',
    event: {
      type: 'cluster',
      action: 'create',
      project: 'project-id',
      cluster: { location: 'us-central1-a', name: 'gke-basic-1' },
      workloadPool: null,
      nodePools: [{ name: 'default-pool' }],
    },
  },
  // The `last` entry of the same operation: no request, so nothing about the pool.
  'C-2.json': {
    outcome: 'change',
    event: {
      type: 'cluster',
      action: 'create',
      project: 'khi-testing',
      cluster: { location: 'us-central1-a', name: 'gke-basic-1' },
      workloadPool: undefined,
      nodePools: undefined,
      source: {
        method: 'google.container.v1.ClusterManager.CreateCluster',
        insertId: 'jfwiewd1qao',
        time: '2025-01-01T00:00:00.000Z',
        operation: {
          id: 'operation-1726191072114-d3db4945-ad7b-4fff-aff7-55a867e4bc54',
          first: false,
          last: true,
        },
      },
    },
  },
  'C-3.json': {
    outcome: 'change',
    event: {
      type: 'nodepool',
      action: 'create',
      project: 'your-project-id',
      cluster: { location: 'us-central1-a', name: 'gke-basic-1' },
      nodePool: 'default',
      metadataServer: undefined,
    },
  },
  'C-4.json': {
    outcome: 'change',
    event: {
      type: 'nodepool',
      action: 'create',
      project: 'your-project-id',
      cluster: { location: 'us-central1-a', name: 'gke-basic-1' },
      nodePool: 'default',
      metadataServer: undefined,
    },
  },
  'C-5.json': {
    outcome: 'change',
    event: {
      type: 'nodepool',
      action: 'delete',
      project: 'your-project-id',
      cluster: { location: 'us-central1-a', name: 'gke-basic-1' },
      nodePool: 'default-pool',
    },
  },
  'C-6.json': {
    outcome: 'change',
    event: {
      type: 'nodepool',
      action: 'delete',
      project: 'project-id',
      cluster: { location: 'us-central1-a', name: 'gke-basic-1' },
      nodePool: 'default-pool',
    },
  },
  // An imageType update: a node pool change that says nothing about the metadata server.
  'C-7.json': {
    outcome: 'change',
    event: {
      type: 'nodepool',
      action: 'update',
      project: 'example-project',
      cluster: { location: 'europe-west4-a', name: 'example-cluster' },
      nodePool: 'example-pool',
      metadataServer: undefined,
      metadataMode: undefined,
    },
  },
  'C-8.json': { outcome: 'ignored', reason: /^Data Access entry/ },
  'C-9.json': { outcome: 'ignored', reason: /^the request failed \(code 3: No valid versions/ },
  'C-10.json': {
    outcome: 'change',
    event: {
      type: 'cluster',
      action: 'delete',
      project: 'project-id',
      cluster: { location: 'us-central1-a', name: 'gke-basic-1' },
      workloadPool: undefined,
    },
  },
  'C-11.json': {
    outcome: 'change',
    event: {
      type: 'cluster',
      action: 'delete',
      project: 'project-id',
      cluster: { location: 'us-central1-a', name: 'gke-basic-1' },
      workloadPool: undefined,
    },
  },
  'C-12.json': { outcome: 'ignored', reason: /^Data Access entry/ },
  'D-1.json': {
    outcome: 'ignored',
    reason: /^io\.k8s\.apps\.v1\.deployments\.patch does not change a Workload Identity link$/,
  },
  'D-2.json': {
    outcome: 'ignored',
    reason: /^io\.k8s\.core\.v1\.pods\.create does not change a Workload Identity link$/,
  },
  'D-3.json': { outcome: 'ignored', reason: /^Data Access entry/ },
  // A push body whose LogEntry is a bare k8s_cluster entry without protoPayload.
  'E-1.json': { outcome: 'ignored', envelope: 'pubsub-push', reason: /no protoPayload/ },
  // Google's example messages: their data is "test message 3" and bytes 01 02 03 04, not a LogEntry.
  'E-2.json': { outcome: 'invalid', error: NOT_A_LOG_ENTRY },
  'E-3.json': { outcome: 'invalid', error: NOT_A_LOG_ENTRY },
  'E-4.json': { outcome: 'ignored', envelope: 'audit-cloudevent', reason: /^Data Access entry/ },
  'F-1.json': { outcome: 'invalid', error: ASSET_FEED },
  'F-2.json': { outcome: 'invalid', error: ASSET_FEED },
  'F-3.json': { outcome: 'invalid', error: ASSET_FEED },
};

function analyzeFile(file: string): Analysis {
  const value = JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown;
  let analysis: Analysis | undefined;
  assert.doesNotThrow(() => {
    analysis = analyze(value);
  });
  assert.ok(analysis);
  return analysis;
}

describe('public samples conformance (analyze, no inventory)', () => {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort();

  test('every sample has a row and every row a sample', () => {
    assert.ok(files.length >= 30, `only ${files.length} samples in ${dir}`);
    assert.deepEqual(files, Object.keys(ROWS).sort());
  });

  for (const file of files) {
    test(file, () => {
      const row = ROWS[file];
      assert.ok(row, `${file} has no row in ROWS: add its expected outcome`);
      const analysis = analyzeFile(file);
      assert.equal(analysis.outcome, row.outcome, JSON.stringify(analysis).slice(0, 300));

      if (analysis.outcome === 'invalid' || row.outcome === 'invalid') {
        assert.match(
          analysis.outcome === 'invalid' ? analysis.error : '',
          row.outcome === 'invalid' ? row.error : /^$/,
        );
        return;
      }
      if (row.envelope !== undefined) assert.equal(analysis.delivery.envelope, row.envelope);
      if (analysis.outcome === 'ignored' || row.outcome === 'ignored') {
        assert.match(
          analysis.outcome === 'ignored' ? analysis.reason : '',
          row.outcome === 'ignored' ? row.reason : /^$/,
        );
        return;
      }

      const event = analysis.event as unknown as Record<string, unknown>;
      for (const [key, expected] of Object.entries(row.event)) {
        if (expected === undefined)
          assert.ok(!(key in event), `${key} must be absent, is ${JSON.stringify(event[key])}`);
        else assert.deepEqual(event[key], expected, key);
      }

      const pages = analysis.findings
        .filter((finding) => finding.status === 'firing' && isPagingKind(finding.kind))
        .map((finding) => finding.kind);
      assert.deepEqual(pages, row.knownPages ?? [], 'a sample without a Workload Identity change pages');
    });
  }
});
