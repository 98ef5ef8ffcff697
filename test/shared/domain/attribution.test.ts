import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type Attribution,
  attribute,
  describeActor,
  principalWords,
  TOOLS,
  type Tool,
} from '../../../shared/domain/attribution.ts';
import { classify } from '../../../shared/events/classify.ts';
import { decode } from '../../../shared/events/decode.ts';
import { FIXTURES } from '../../support/paths.ts';

const DIR = join(FIXTURES, 'attribution');

interface Sample {
  userAgent: string;
  tool: Tool;
  label?: string;
  module?: string;
  command?: string;
  source: string;
}

const SAMPLES = JSON.parse(readFileSync(join(DIR, 'user-agents.json'), 'utf8')) as Sample[];

/** The tool each fixture's entry was made with (README.md names the source of each). */
const FIXTURE_TOOLS: Record<string, Tool> = {
  'terraform-binding-replaced.json': 'terraform',
  'terraform-module.json': 'terraform',
  'terraform-kubernetes.json': 'terraform',
  'opentofu.json': 'opentofu',
  'config-connector.json': 'config-connector',
  'pulumi.json': 'pulumi',
  'crossplane.json': 'crossplane',
  'deployment-manager.json': 'deployment-manager',
  'gcloud.json': 'gcloud',
  'console.json': 'console',
  'client-library.json': 'client-library',
  'gke-robot.json': 'gke',
  'service-agent.json': 'service-agent',
  'kubectl.json': 'kubernetes-client',
  'unknown.json': 'unknown',
};

/** The entry's source as the classifier reads it, attributed. */
function attributed(file: string): { via: Attribution | undefined; actor?: string; delegation?: string[] } {
  const decoded = decode(JSON.parse(readFileSync(join(DIR, file), 'utf8')));
  if (!decoded.ok) assert.fail(`${file} does not decode: ${decoded.error}`);
  const classified = classify(decoded.delivery.entry);
  const source = classified.source;
  assert.ok(source, `${file}: the classifier reads who made the change`);
  return {
    via: attribute(source),
    ...(source.actor ? { actor: source.actor } : {}),
    ...(source.delegation ? { delegation: source.delegation } : {}),
  };
}

describe('attribute: user agents from the tools’ public sources and public audit samples', () => {
  for (const sample of SAMPLES) {
    it(`${sample.tool}: ${sample.userAgent.slice(0, 80)}`, () => {
      assert.ok(sample.source.length > 20, 'each sample cites where its format comes from');
      const via = attribute({
        userAgent: sample.userAgent,
        actor: 'deployer@orbit-prod.iam.gserviceaccount.com',
      });
      assert.equal(via?.tool, sample.tool);
      if (sample.label) assert.equal(via?.label, sample.label);
      if (sample.module) assert.equal(via?.module, sample.module);
      if (sample.command) assert.equal(via?.command, sample.command);
    });
  }

  it('the samples cover every tool a user agent alone can name', () => {
    const byPrincipal: Tool[] = ['gke', 'service-agent', 'kubernetes', 'deployment-manager'];
    const covered = new Set(SAMPLES.map((s) => s.tool));
    for (const tool of TOOLS.filter((t) => !byPrincipal.includes(t))) assert.ok(covered.has(tool), tool);
  });
});

describe('attribute: one audit entry per tool (test/fixtures/attribution)', () => {
  it('every fixture is in the table, and the table names every fixture', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'user-agents.json');
    assert.deepEqual(files.sort(), Object.keys(FIXTURE_TOOLS).sort());
  });

  for (const [file, tool] of Object.entries(FIXTURE_TOOLS)) {
    it(`${file} → ${tool}`, () => assert.equal(attributed(file).via?.tool, tool));
  }

  it('Terraform run from GitHub Actions: the tool, who ran it, and who it ran for', () => {
    const { via, actor, delegation } = attributed('terraform-binding-replaced.json');
    assert.equal(via?.label, 'Terraform 1.5.7 (terraform-provider-google 6.12.0)');
    assert.equal(via?.plugin, 'terraform-provider-google 6.12.0');
    assert.equal(
      describeActor({
        ...(actor ? { actor } : {}),
        ...(via ? { via } : {}),
        ...(delegation ? { delegation } : {}),
      }),
      'via Terraform 1.5.7 (terraform-provider-google 6.12.0), run as deployer@orbit-prod.iam.gserviceaccount.com (impersonated by repo:orbit/platform-infra:ref:refs/heads/main (workload identity pool github))',
    );
  });

  it('a module’s provider_meta attribution is named; Terraform from 1.6 on may be OpenTofu', () => {
    const { via } = attributed('terraform-module.json');
    assert.equal(via?.module, 'blueprints/terraform/terraform-google-kubernetes-engine/v35.0.1');
    assert.match(
      via?.label ?? '',
      /^Terraform or OpenTofu 1\.9\.8 \(terraform-provider-google 7\.10\.0, module blueprints\//,
    );
  });

  it('Config Connector in namespaced mode: the namespace comes from the delegation chain', () => {
    const { via } = attributed('config-connector.json');
    assert.equal(via?.namespace, 'platform');
    assert.equal(via?.label, 'Config Connector 1.133.0, namespace platform');
  });

  it('gcloud: the command as typed, and Cloud Shell', () => {
    const { via } = attributed('gcloud.json');
    assert.equal(via?.command, 'gcloud container node-pools update');
    assert.equal(via?.label, 'gcloud 546.0.0 in Cloud Shell (gcloud container node-pools update)');
  });

  it('gcloud without its command/ part is still gcloud, the command unknown', () => {
    const via = attribute({ userAgent: 'google-cloud-sdk gcloud/528.0.0', actor: 'alice@acme.example' });
    assert.equal(via?.tool, 'gcloud');
    assert.equal(via?.label, 'gcloud 528.0.0');
    assert.equal(via?.command, undefined);
  });

  it('GKE changing a pool itself is not a person', () => {
    const { via, actor } = attributed('gke-robot.json');
    assert.equal(via?.person, false);
    assert.match(
      describeActor({ ...(actor ? { actor } : {}), ...(via ? { via } : {}) }),
      /^by GKE itself \(the Kubernetes Engine service agent, not a person\) as service-731604512345@/,
    );
  });

  it('an unknown agent is shown as it is, not guessed', () => {
    const { via } = attributed('unknown.json');
    assert.equal(via?.label, 'an agent wi-sentinel does not know, "curl/8.11.1"');
  });
});

describe('attribute: principals and what is not there', () => {
  it('no user agent and a person: nothing to tell', () => {
    assert.equal(attribute({ actor: 'alice@example.com' }), undefined);
    assert.equal(attribute({ userAgent: ',gzip(gfe)', actor: 'alice@example.com' }), undefined);
  });

  it('Kubernetes’ own components are not a person; a workload’s KSA is judged by its agent', () => {
    const component = attribute({
      actor: 'system:kube-controller-manager',
      userAgent:
        'kube-controller-manager/v1.28.14 (linux/amd64) kubernetes/a4ef1a6/system:serviceaccount:kube-system:replicaset-controller',
    });
    assert.equal(component?.tool, 'kubernetes');
    assert.equal(component?.person, false);
    const argo = attribute({
      actor: 'system:serviceaccount:argocd:argocd-application-controller',
      userAgent: 'argocd-application-controller/v2.13.1 (linux/amd64) kubernetes/$Format',
    });
    assert.equal(argo?.label, 'Argo CD (argocd-application-controller)');
  });

  it('a Google service agent of any service', () => {
    const via = attribute({
      actor: 'service-731604512345@gcp-sa-gkehub.iam.gserviceaccount.com',
      userAgent: 'x',
    });
    assert.deepEqual(via, {
      tool: 'service-agent',
      label: 'a Google service agent (gkehub), not a person',
      person: false,
    });
  });

  it('a federated principal reads as its subject and pool', () => {
    assert.equal(
      principalWords(
        'principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/github/subject/repo:o/r:ref:refs/heads/main',
      ),
      'repo:o/r:ref:refs/heads/main (workload identity pool github)',
    );
    assert.equal(
      principalWords('serviceAccount:ci@p.iam.gserviceaccount.com'),
      'ci@p.iam.gserviceaccount.com',
    );
  });

  it('an agent’s long tail is cut, never the tool it names', () => {
    const via = attribute({ userAgent: `mystery/${'x'.repeat(1000)}` });
    assert.equal(via?.tool, 'unknown');
    assert.ok((via?.label.length ?? 0) < 250);
  });
});
