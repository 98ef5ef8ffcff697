import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Finding } from '../../../shared/domain/finding.ts';
import { toPagerDutyEvent } from '../../../shared/notify/pagerduty-render.ts';
import {
  type Block,
  MAX_BLOCKS,
  MAX_SECTION_TEXT,
  MAX_TOTAL_BLOCK_TEXT,
  toSlackMessage,
  toSlackThreadReply,
} from '../../../shared/notify/slack-render.ts';
import { renderIncidentText } from '../../../shared/notify/terminal.ts';
import { analyze } from '../../../shared/pipeline.ts';
import { totalText, validateBlocks } from '../../fakes/slack.ts';
import { FIXTURES } from '../../support/paths.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { incidentOf, ROUTING_KEY } from './pagerduty-incident.ts';

/** The finding the Terraform fixture gives for checkout/cart: who, the warning, the HCL. */
function terraformFinding(edit: (entry: Record<string, unknown>) => void = () => {}): Finding {
  const entry = JSON.parse(
    readFileSync(join(FIXTURES, 'attribution', 'terraform-binding-replaced.json'), 'utf8'),
  ) as Record<string, unknown>;
  edit(entry);
  const analysis = analyze(entry, loadSnapshot());
  assert.equal(analysis.outcome, 'change');
  const finding =
    analysis.outcome === 'change'
      ? analysis.findings.find((f) => f.status === 'firing' && f.ksas.some((k) => k.name === 'cart'))
      : undefined;
  assert.ok(finding);
  return finding;
}

function sections(blocks: readonly Block[]): string[] {
  return blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));
}

describe('attribution and tool repairs in Slack and PagerDuty', () => {
  test('Slack: via the tool, run as whom for whom; the warning before the steps, the steps in its words', () => {
    const message = toSlackMessage(incidentOf(terraformFinding()));
    const texts = sections(message.blocks);
    assert.ok(
      texts.some((t) =>
        t.includes(
          '\nVia Terraform 1.5.7 (terraform-provider-google 6.12.0), run as *deployer@orbit-prod.iam.gserviceaccount.com* (impersonated by repo:orbit/platform-infra:ref:refs/heads/main (workload identity pool github)) · ',
        ),
      ),
      texts.join('\n---\n'),
    );
    const heading = texts.findIndex((t) => t.startsWith("*How to repair* (3 steps, in Terraform's words)"));
    assert.ok(heading >= 0, texts.join('\n---\n'));
    assert.match(texts[heading + 1] ?? '', /^⚠️ This looks like an authoritative resource at work/);
    assert.match(
      texts[heading + 2] ?? '',
      /^\*1\. Add the member to the members of the google_service_account_iam_binding/,
    );
    assert.match(
      texts[heading + 2] ?? '',
      /```resource "google_service_account_iam_binding" "cart_workload_identity" \{/,
    );
    assert.match(texts[heading + 3] ?? '', /^\*2\. Now, by hand: restore the Workload Identity binding\*/);
    assert.deepEqual(validateBlocks(message.blocks), []);
    assert.match(message.text, /^Via Terraform 1\.5\.7 .*, run as deployer@.* at 2026-11-24 08:41 UTC/m);
  });

  test('the thread reply and the terminal say the same who', () => {
    const incident = incidentOf(terraformFinding());
    assert.match(
      toSlackThreadReply(incident, 'opened').text,
      /\nVia Terraform 1\.5\.7 .*, run as \*deployer@/,
    );
    const text = renderIncidentText(incident, 'opened');
    assert.match(
      text,
      /who: {3}via Terraform 1\.5\.7 \(terraform-provider-google 6\.12\.0\), run as deployer@/,
    );
    assert.match(text, /⚠️ {4}This looks like an authoritative resource/);
    assert.match(text, /# Add the member .*\n {11}resource "google_service_account_iam_binding"/);
  });

  test('a role of a thousand members: Slack stays within its limits, PagerDuty carries the whole repair', () => {
    const many = Array.from(
      { length: 1000 },
      (_, i) => `serviceAccount:orbit-prod.svc.id.goog[batch/job-${i}]`,
    );
    const finding = terraformFinding((entry) => {
      const payload = entry.protoPayload as { response: { bindings: { members: string[] }[] } };
      payload.response.bindings[0]?.members.push(...many);
    });
    const hcl = finding.remediation?.[0]?.command ?? '';
    assert.ok(hcl.includes('job-999') && hcl.length > 50_000);

    const message = toSlackMessage(incidentOf(finding));
    assert.ok(message.blocks.length <= MAX_BLOCKS);
    assert.deepEqual(validateBlocks(message.blocks), []);
    assert.ok(totalText(message.blocks) <= MAX_TOTAL_BLOCK_TEXT, `${totalText(message.blocks)}`);
    for (const text of sections(message.blocks)) assert.ok(text.length <= MAX_SECTION_TEXT);
    assert.ok(sections(message.blocks).some((t) => t.startsWith('⚠️ This looks like an authoritative')));

    const details = toPagerDutyEvent(incidentOf(finding), ROUTING_KEY, 'trigger').payload.custom_details;
    assert.equal(details.tool, 'terraform');
    assert.match(
      String(details.via),
      /^via Terraform 1\.5\.7 .*, run as deployer@orbit-prod\.iam\.gserviceaccount\.com \(impersonated by/,
    );
    assert.deepEqual(details.delegation, [
      'principal://iam.googleapis.com/projects/731604512345/locations/global/workloadIdentityPools/github/subject/repo:orbit/platform-infra:ref:refs/heads/main',
    ]);
    assert.match(String(details.user_agent), /^google-api-go-client\/0\.5 Terraform\/1\.5\.7/);
    assert.equal(details.remediation_warning, finding.remediationWarning);
    assert.deepEqual(details.replaced, {
      scope: 'role',
      role: 'roles/iam.workloadIdentityUser',
      removed: 2,
      added: 1,
      roles: 1,
    });
    const [first] = details.remediation as { command: string; tool: string; language: string }[];
    // Cut at COMMAND_LIMIT (8 KB), with far more of the list than Slack could show.
    assert.equal(first?.tool, 'terraform');
    assert.equal(first?.language, 'hcl');
    assert.ok((first?.command.length ?? 0) > 8000 && (first?.command.length ?? 0) <= 8192);
  });

  test('a repair short enough is whole in PagerDuty', () => {
    const finding = terraformFinding();
    const details = toPagerDutyEvent(incidentOf(finding), ROUTING_KEY, 'trigger').payload.custom_details;
    const steps = details.remediation as { command: string }[];
    assert.deepEqual(
      steps.map((s) => s.command),
      finding.remediation?.map((s) => s.command),
    );
  });
});
