import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { parse as parseYaml } from 'yaml';
import { inToolWords } from '../../../shared/chain/remediation-words.ts';
import { attribute, type Tool } from '../../../shared/domain/attribution.ts';
import {
  FINDING_KINDS,
  type Finding,
  type FindingKind,
  type Remediation,
} from '../../../shared/domain/finding.ts';
import { analyze } from '../../../shared/pipeline.ts';
import { FIXTURES } from '../../support/paths.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { detectorOf } from '../detect/cases/case.ts';
import { ALL_CASES } from '../detect/cases/index.ts';

/** One user agent per tool, from test/fixtures/attribution/user-agents.json. */
const AGENTS: Record<string, string> = {
  terraform:
    'google-api-go-client/0.5 Terraform/1.5.7 (+https://www.terraform.io) Terraform-Plugin-SDK/2.36.1 terraform-provider-google/6.12.0',
  opentofu:
    'Terraform/1.10.6 (+https://www.terraform.io) Terraform-Plugin-SDK/2.37.0 terraform-provider-google/7.10.0 OpenTofu/1.10.6',
  pulumi: 'google-api-go-client/0.5 Pulumi/3.0 (GPN:Pulumi; https://www.pulumi.com) pulumi-gcp/8.41.1',
  'config-connector':
    'kcc/1.133.0 (+https://github.com/GoogleCloudPlatform/k8s-config-connector) kcc/controller-manager/1.133.0',
  crossplane:
    'google-api-go-client/0.5 Terraform/ (+https://www.terraform.io) Terraform-Plugin-SDK/2.40.1 terraform-provider-google/dev upbound-provider-gcp/v2.2.0',
  gcloud:
    'google-cloud-sdk gcloud/546.0.0 command/gcloud.iam.service-accounts.remove-iam-policy-binding invocation-id/0 environment/None',
  console: 'GoogleCloudConsole',
};

/** The configuration language each tool's own repair is written in. */
const LANGUAGE: Record<string, Remediation['language']> = {
  terraform: 'hcl',
  opentofu: 'hcl',
  pulumi: 'typescript',
  'config-connector': 'yaml',
  crossplane: 'yaml',
};

/** Kinds no tool makes: wi-sentinel's own health, and failures no change explains. */
const NOT_MADE: FindingKind[] = ['sentinel-degraded', 'wi-auth-failures'];
/** Kinds whose repair removes something: found in the configuration, not written anew. */
const REMOVALS: FindingKind[] = ['gsa-broad-role', 'binding-orphaned', 'key-file-override'];
/** Kubernetes objects Config Connector and Crossplane do not manage: kubectl's manifest instead. */
const KUBERNETES_SIDE: FindingKind[] = ['annotation-missing', 'metadata-egress-blocked', 'key-file-override'];

/** A firing finding of every kind a change can cause, as its detector builds it for `tool`. */
function findingsBy(tool: string): Map<FindingKind, Finding> {
  const byKind = new Map<FindingKind, Finding>();
  for (const c of ALL_CASES) {
    if (byKind.has(c.kind) || !c.want.some((w) => w.status === 'firing')) continue;
    const detector = detectorOf(c.kind);
    if (c.event) {
      const event = { ...c.event, source: { ...c.event.source, userAgent: AGENTS[tool] ?? '' } };
      const found = detector
        .detect(event, c.snapshot)
        .find((f) => f.status === 'firing' && f.kind === c.kind);
      if (found) byKind.set(c.kind, found);
    } else if (c.snapshot && detector.scan) {
      // Found only by the sweep (no change, so no tool): the repair is asked for as if a tool had made it.
      const [found] = detector.scan(c.snapshot);
      const via = attribute({ userAgent: AGENTS[tool] });
      if (found && via) {
        const caused: Finding = { ...found, cause: { method: 'test', via } };
        byKind.set(c.kind, { ...caused, ...inToolWords(caused) });
      }
    }
  }
  return byKind;
}

async function assertParses(step: Remediation, label: string): Promise<void> {
  if (step.language === 'hcl') {
    const json = (await parseHcl('repair.tf', step.command)) as Record<string, unknown>;
    assert.ok(
      json.resource ?? json.data,
      `${label}: HCL declares a resource or data source\n${step.command}`,
    );
  } else if (step.language === 'yaml') {
    const object = parseYaml(step.command) as {
      apiVersion?: string;
      kind?: string;
      metadata?: { name?: string };
    };
    assert.ok(
      object.apiVersion && object.kind && object.metadata?.name,
      `${label}: a whole Kubernetes object`,
    );
  } else if (step.language === 'typescript') {
    // Syntax only: the program's `gcp` and `k8s` imports are the reader's.
    assert.doesNotThrow(() => new Script(step.command), `${label}: TypeScript that parses\n${step.command}`);
  }
}

describe('repairs in the words of the tool that made the change', () => {
  const made = FINDING_KINDS.filter((kind) => !NOT_MADE.includes(kind));

  for (const tool of ['terraform', 'opentofu', 'pulumi', 'config-connector', 'crossplane']) {
    it(`${tool}: every kind a change can cause, its configuration first, today's commands after`, async () => {
      const findings = findingsBy(tool);
      assert.deepEqual([...findings.keys()].sort(), [...made].sort(), 'a case of every kind');
      for (const [kind, finding] of findings) {
        const steps = finding.remediation ?? [];
        const [first] = steps;
        assert.ok(first, `${kind}: a repair`);
        const kubectl =
          KUBERNETES_SIDE.includes(kind) && (tool === 'config-connector' || tool === 'crossplane');
        const words = tool === 'opentofu' ? 'terraform' : tool;
        assert.equal(first.tool, kubectl ? 'kubectl' : words, `${kind}: in ${tool}'s words`);
        if (!REMOVALS.includes(kind)) {
          assert.equal(first.language, kubectl ? 'yaml' : LANGUAGE[tool], `${kind}: ${tool}'s language`);
        }
        for (const step of steps) await assertParses(step, `${tool} ${kind} "${step.title}"`);
        assert.ok(
          steps.slice(1).some((step) => step.title.startsWith('Now, by hand:')),
          `${kind}: today's commands stay, to restore service now`,
        );
      }
    });
  }

  for (const tool of ['gcloud', 'console']) {
    it(`${tool}: today's commands first, then the Terraform form as the durable fix`, async () => {
      for (const [kind, finding] of findingsBy(tool)) {
        const steps = finding.remediation ?? [];
        const durable = steps.filter((step) => step.title.startsWith('Durable fix'));
        assert.ok(durable.length > 0, `${kind}: a durable fix`);
        assert.ok(!steps[0]?.title.startsWith('Durable fix'), `${kind}: today's commands first`);
        for (const step of durable) {
          assert.ok(step.tool === 'terraform' || step.tool === 'kubectl', kind);
          await assertParses(step, `${tool} ${kind}`);
        }
        assert.equal(finding.remediationWarning, undefined, `${kind}: a fix by hand lasts`);
      }
    });
  }

  it('GKE’s own robot: today’s commands, nothing to write in a configuration', () => {
    const c = ALL_CASES.find((x) => x.kind === 'nodepool-metadata-disabled' && x.event?.type === 'nodepool');
    assert.ok(c?.event);
    const robot = 'service-731604512345@container-engine-robot.iam.gserviceaccount.com';
    const [finding] = detectorOf(c.kind)
      .detect({ ...c.event, source: { ...c.event.source, actor: robot } }, c.snapshot)
      .filter((f) => f.status === 'firing');
    assert.equal(finding?.cause?.via?.tool, 'gke');
    assert.ok(
      finding?.remediation?.every((step) => step.tool === undefined && !step.title.startsWith('Durable')),
    );
  });

  it('a sweep finding (nobody acted) keeps today’s commands', () => {
    const [finding] =
      detectorOf('nodepool-metadata-disabled').scan?.(
        loadSnapshot('drift/nodepool-metadata-disabled.json'),
      ) ?? [];
    assert.ok(finding);
    assert.equal(finding.cause, undefined);
    assert.ok(finding.remediation?.every((step) => step.tool === undefined));
  });
});

describe('an authoritative resource at work', () => {
  const snapshot = loadSnapshot();
  const entry = JSON.parse(
    readFileSync(join(FIXTURES, 'attribution', 'terraform-binding-replaced.json'), 'utf8'),
  );

  it('Terraform replaced the whole member list: warned, and repaired in the binding resource', async () => {
    const analysis = analyze(entry, snapshot);
    assert.equal(analysis.outcome, 'change');
    if (analysis.outcome !== 'change') return;
    const broken = analysis.findings.filter((f) => f.kind === 'binding-missing' && f.status === 'firing');
    assert.deepEqual(broken.map((f) => f.ksas.map((k) => k.name).join()).sort(), ['cart', 'pricing']);
    for (const finding of broken) {
      assert.deepEqual(finding.cause?.replaced, {
        scope: 'role',
        role: 'roles/iam.workloadIdentityUser',
        removed: 2,
        added: 1,
        roles: 1,
      });
      const warning = finding.remediationWarning ?? '';
      assert.match(warning, /^This looks like an authoritative resource at work/);
      assert.match(warning, /replaced the whole member list of roles\/iam\.workloadIdentityUser on cart@/);
      assert.match(warning, /google_service_account_iam_binding/);
      assert.match(warning, /A gcloud fix will be undone by the next terraform apply\./);
      const [first] = finding.remediation ?? [];
      assert.equal(first?.language, 'hcl');
      const json = (await parseHcl('repair.tf', first?.command ?? '')) as {
        resource: Record<string, Record<string, { members: string[]; role: string }[]>>;
      };
      const binding = Object.values(json.resource.google_service_account_iam_binding ?? {})[0]?.[0];
      // The whole list the role must hold: what the apply left, and both members it broke.
      assert.deepEqual(binding?.members, [
        'serviceAccount:orbit-prod.svc.id.goog[checkout/cart-v2]',
        'serviceAccount:orbit-prod.svc.id.goog[checkout/cart]',
        'serviceAccount:orbit-prod.svc.id.goog[checkout/pricing]',
      ]);
      assert.equal(binding?.role, 'roles/iam.workloadIdentityUser');
    }
  });

  it('the whole policy set at once: google_service_account_iam_policy, and its google_iam_policy', async () => {
    const policy = structuredClone(entry);
    policy.protoPayload.serviceData.policyDelta.bindingDeltas.push({
      action: 'REMOVE',
      role: 'roles/iam.serviceAccountTokenCreator',
      member: 'user:erin@example.org',
    });
    const analysis = analyze(policy, snapshot);
    assert.equal(analysis.outcome, 'change');
    if (analysis.outcome !== 'change') return;
    const finding = analysis.findings.find((f) => f.kind === 'binding-missing' && f.status === 'firing');
    assert.equal(finding?.cause?.replaced?.scope, 'policy');
    assert.match(
      finding?.remediationWarning ?? '',
      /set the whole policy of cart@.* across 2 roles\), as google_service_account_iam_policy does/,
    );
    const json = (await parseHcl('repair.tf', finding?.remediation?.[0]?.command ?? '')) as Record<
      string,
      unknown
    >;
    assert.ok((json.data as Record<string, unknown>).google_iam_policy);
  });

  it('one member removed by Terraform is what google_service_account_iam_member does: no warning', () => {
    const single = structuredClone(entry);
    single.protoPayload.serviceData.policyDelta.bindingDeltas = [
      {
        action: 'REMOVE',
        role: 'roles/iam.workloadIdentityUser',
        member: 'serviceAccount:orbit-prod.svc.id.goog[checkout/cart]',
      },
    ];
    const analysis = analyze(single, snapshot);
    assert.equal(analysis.outcome, 'change');
    if (analysis.outcome !== 'change') return;
    const [finding] = analysis.findings;
    assert.equal(finding?.cause?.replaced, undefined);
    assert.equal(finding?.remediationWarning, undefined);
    assert.match(finding?.remediation?.[0]?.command ?? '', /^resource "google_service_account_iam_member"/);
  });

  it('Pulumi and Config Connector name their own authoritative resources', () => {
    for (const [tool, resource, undone] of [
      ['pulumi', 'gcp.serviceaccount.IAMBinding', /undone by the next pulumi up\./],
      [
        'config-connector',
        'IAMPolicy',
        /undone by Config Connector's next reconcile \(about every 10 minutes\)/,
      ],
    ] as [Tool, string, RegExp][]) {
      const other = structuredClone(entry);
      other.protoPayload.requestMetadata.callerSuppliedUserAgent = AGENTS[tool];
      const analysis = analyze(other, snapshot);
      assert.equal(analysis.outcome, 'change');
      if (analysis.outcome !== 'change') return;
      const finding = analysis.findings.find((f) => f.kind === 'binding-missing' && f.status === 'firing');
      assert.match(
        finding?.remediationWarning ?? '',
        new RegExp(`as ${resource.replace(/\./g, '\\.')} does`),
      );
      assert.match(finding?.remediationWarning ?? '', undone);
    }
  });

  it('a setting the tool manages: a fix by hand lasts until the tool applies again', () => {
    const analysis = analyze(
      JSON.parse(readFileSync(join(FIXTURES, 'attribution', 'config-connector.json'), 'utf8')),
      snapshot,
    );
    assert.equal(analysis.outcome, 'change');
    if (analysis.outcome !== 'change') return;
    const [finding] = analysis.findings;
    assert.match(finding?.remediationWarning ?? '', /lasts only until Config Connector's next reconcile/);
    const first = finding?.remediation?.[0];
    const object = parseYaml(first?.command ?? '') as {
      kind: string;
      metadata: { name: string; namespace: string };
    };
    assert.deepEqual(
      [object.kind, object.metadata.name, object.metadata.namespace],
      ['ContainerNodePool', 'highmem', 'platform'],
    );
  });
});
