import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { boundFindings, MAX_FINDINGS_PER_DELIVERY } from '../../../shared/alerting/bound.ts';
import type { Finding } from '../../../shared/domain/finding.ts';
import { bindingFinding } from '../../support/findings.ts';

/** The findings of one change that breaks (or repairs) `count` bindings of one GSA. */
function many(count: number, status: Finding['status'] = 'firing'): Finding[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `app-${String(i).padStart(5, '0')}`;
    return bindingFinding({
      status,
      fingerprint: `binding-missing/orbit-prod/shared@orbit-prod.iam.gserviceaccount.com/orbit-prod.svc.id.goog/team/${name}`,
      gsa: 'shared@orbit-prod.iam.gserviceaccount.com',
      ksas: [{ workloadPool: 'orbit-prod.svc.id.goog', namespace: 'team', name }],
      workloads: [{ cluster: 'core-1', namespace: 'team', kind: 'Deployment', name, pods: 1 }],
      summary: `team/${name} lost its binding`,
    });
  });
}

describe('bounded findings per delivery', () => {
  test('up to the cap, every finding stands on its own', () => {
    const findings = many(MAX_FINDINGS_PER_DELIVERY);
    assert.deepEqual(boundFindings(findings), { findings, summaries: [] });
  });

  test('8,004 broken links: the first by fingerprint on their own, the rest as one naming the scale', () => {
    const findings = many(8_004);
    const { findings: kept, summaries } = boundFindings(findings);
    assert.equal(kept.length, MAX_FINDINGS_PER_DELIVERY - 1);
    assert.equal(summaries.length, 1);
    const [summary] = summaries as [Finding];
    assert.equal(summary.status, 'firing');
    assert.equal(summary.kind, 'binding-missing');
    assert.match(summary.fingerprint, /^binding-missing\/orbit-prod\/many\/[0-9a-f]{16}$/);
    assert.match(
      summary.summary,
      /^7985 more binding-missing links broken by the same change, told as one: 7985 KSAs \(team\/app-00019, .* and 7980 more\)$/,
    );
    assert.equal(summary.ksas.length, 1_000, 'as many KSAs as an incident keeps');
    assert.ok((summary.remediation?.length ?? 0) <= 5);
  });

  test("an authoritative tool's warning stays on the summary of the links it broke", () => {
    const warning =
      'Terraform set the whole policy (google_service_account_iam_policy): a gcloud fix is undone';
    const findings = many(30).map((f) => ({ ...f, remediationWarning: warning }));
    const [summary] = boundFindings(findings).summaries as [Finding];
    assert.equal(summary.remediationWarning, warning);
    const [repaired] = boundFindings(many(30, 'resolved')).summaries as [Finding];
    assert.equal(repaired.remediationWarning, undefined);
  });

  test('the same links in another order, or repaired, split the same way', () => {
    const findings = many(100);
    const once = boundFindings(findings);
    const shuffled = boundFindings([...findings].reverse());
    assert.deepEqual(
      shuffled.findings.map((f) => f.fingerprint).sort(),
      once.findings.map((f) => f.fingerprint).sort(),
    );
    assert.equal(shuffled.summaries[0]?.fingerprint, once.summaries[0]?.fingerprint);
    const repaired = boundFindings(many(100, 'resolved'));
    assert.equal(repaired.summaries[0]?.status, 'resolved');
    assert.equal(
      repaired.summaries[0]?.fingerprint,
      once.summaries[0]?.fingerprint,
      'the repair resolves the summary',
    );
    assert.match(String(repaired.summaries[0]?.summary), /^81 more binding-missing links repaired/);
  });

  test('each kind is bounded on its own: a finding of another kind never moves the split', () => {
    const other = bindingFinding({
      kind: 'gsa-missing',
      fingerprint: 'gsa-missing/orbit-prod/shared@x',
      status: 'resolved',
    });
    const alone = boundFindings(many(100, 'resolved'));
    const beside = boundFindings([...many(100, 'resolved'), other]);
    assert.equal(beside.summaries[0]?.fingerprint, alone.summaries[0]?.fingerprint);
    assert.ok(beside.findings.includes(other));
  });
});
