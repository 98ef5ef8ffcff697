import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadConfig } from '../../shared/config.ts';
import { CUSTOM_ROLES } from '../../shared/gcp/permissions.ts';
import { sinkNamesOf, topicNameOf } from '../../shared/reconcile/checks.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { type Block, type Body, blockNamed, blocksOf, loadModule, type TfModule } from './terraform.ts';

// infra/ for issue #9: the workload-log sink beside the audit one, the metadata-server alert policy
// with its Pub/Sub channel and the grant that lets Monitoring publish, and what reconcile's
// self-checks need (WI_SINK, WI_AUDIT_TOPIC, logging.logEntries.list).
const INFRA = join(REPO_ROOT, 'infra');

/** Terraform's `${…}` interpolation of an expression, as hcl2json writes it. */
const tf = (expression: string): string => ['$', '{', expression, '}'].join('');

const only = (body: Body, name: string): Body => {
  const blocks = body[name] as Body[] | undefined;
  assert.equal(blocks?.length, 1, `one ${name} block`);
  return blocks[0] as Body;
};

/** The content of the dynamic block `label` of a body. */
function dynamicContent(body: Body, label: string): Body {
  const dynamics = (body.dynamic as Record<string, Body[]> | undefined)?.[label];
  assert.equal(dynamics?.length, 1, `one dynamic ${label}`);
  return only(dynamics[0] as Body, 'content');
}

describe('infra/: symptoms (workload sink, metadata-server alert, self-check wiring)', () => {
  let module: TfModule;
  before(async () => {
    module = await loadModule(INFRA);
  });

  test('the workload sink publishes to the audit topic, can be turned off, and every scope builds it', () => {
    const sinks = module.locals.get('sinks') as Record<string, Body>;
    assert.deepEqual(Object.keys(sinks).sort(), ['audit', 'workload']);
    assert.equal(sinks.workload?.topic, 'audit');
    assert.equal(sinks.workload?.enabled, tf('var.enable_workload_sink'));
    assert.equal(sinks.audit?.enabled, true);
    assert.ok(existsSync(join(INFRA, 'filters', 'workload.filter')));
    assert.equal(
      module.locals.get('enabled_sinks'),
      tf('{ for name, sink in local.sinks : name => sink if sink.enabled }'),
    );
    assert.match(String(module.locals.get('project_sinks')), /keys\(local\.enabled_sinks\)/);
    assert.match(String(module.locals.get('organization_sinks')), /local\.enabled_sinks/);
    assert.match(String(module.locals.get('folder_sinks')), /local\.enabled_sinks/);
  });

  test('the alert policy is the generated one: its PromQL condition, its label, and both prompts', () => {
    assert.equal(
      module.locals.get('metadata_alert'),
      tf(`jsondecode(file("${tf('path.module')}/generated/metadata-server-alert.json"))`),
    );
    const policy = blockNamed(module, 'resource', 'google_monitoring_alert_policy', 'metadata_server');
    assert.equal(policy.body.count, tf('var.enable_metadata_server_alert ? 1 : 0'));
    assert.equal(policy.body.project, tf('var.project_id'));
    assert.equal(policy.body.display_name, tf('local.metadata_alert.displayName'));
    assert.equal(policy.body.severity, tf('local.metadata_alert.severity'));
    // The decoder recognises the policy by its user label: the generated labels are merged last.
    assert.equal(policy.body.user_labels, tf('merge(local.labels, local.metadata_alert.userLabels)'));
    assert.deepEqual(policy.body.notification_channels, [
      tf('google_monitoring_notification_channel.pubsub[0].id'),
    ]);
    const dynamic = (policy.body.dynamic as Record<string, Body[]>).conditions?.[0] as Body;
    assert.equal(dynamic.for_each, tf('local.metadata_alert.conditions'));
    const promql = only(dynamicContent(policy.body, 'conditions'), 'condition_prometheus_query_language');
    assert.equal(promql.query, tf('conditions.value.conditionPrometheusQueryLanguage.query'));
    assert.equal(promql.duration, tf('conditions.value.conditionPrometheusQueryLanguage.duration'));
    const strategy = only(policy.body, 'alert_strategy');
    assert.equal(strategy.auto_close, tf('local.metadata_alert.alertStrategy.autoClose'));
    assert.match(String(strategy.notification_prompts), /"OPENED", "CLOSED"/);
  });

  test('the policy says what to do, in Markdown', () => {
    const policy = blockNamed(module, 'resource', 'google_monitoring_alert_policy', 'metadata_server');
    const documentation = only(policy.body, 'documentation');
    assert.equal(documentation.mime_type, 'text/markdown');
    assert.ok(String(documentation.subject).length <= 255, 'Monitoring caps the subject at 255 characters');
    const content = String(documentation.content);
    assert.ok(content.length < 8_192, 'Monitoring caps documentation at 8,192 characters');
    for (const step of [/\/wi-status CLUSTER/, /response_code/, /gke-metadata-server/, /NAMESPACE\/KSA/])
      assert.match(content, step);
    assert.doesNotMatch(content, /\$\{/, 'no Terraform interpolation in the documentation');
  });

  test('a Pub/Sub channel to the audit topic, and only Monitoring’s notification agent may publish there for it', () => {
    const channel = blockNamed(module, 'resource', 'google_monitoring_notification_channel', 'pubsub');
    assert.equal(channel.body.type, 'pubsub');
    assert.equal(channel.body.count, tf('var.enable_metadata_server_alert ? 1 : 0'));
    assert.deepEqual(channel.body.labels, { topic: tf('google_pubsub_topic.topic["audit"].id') });
    assert.equal(
      module.locals.get('monitoring_notification_agent'),
      `service-${tf('data.google_project.this.number')}@gcp-sa-monitoring-notification.iam.gserviceaccount.com`,
    );
    const grant = blockNamed(module, 'resource', 'google_pubsub_topic_iam_member', 'monitoring_publisher');
    assert.equal(grant.body.count, tf('var.enable_metadata_server_alert ? 1 : 0'));
    assert.equal(grant.body.topic, tf('google_pubsub_topic.topic["audit"].name'));
    assert.equal(grant.body.role, 'roles/pubsub.publisher');
    assert.equal(grant.body.member, `serviceAccount:${tf('local.monitoring_notification_agent')}`);
    // The agent exists only once the project has a Pub/Sub channel (and the Monitoring API is on).
    assert.deepEqual(grant.body.depends_on, [
      tf('google_project_service.api'),
      tf('google_monitoring_notification_channel.pubsub'),
    ]);
    const apis = module.locals.get('apis') as string[];
    assert.ok(apis.includes('monitoring.googleapis.com'));
  });

  test('watched projects join the metrics scope of project_id, unless turned off', () => {
    const monitored = blockNamed(module, 'resource', 'google_monitoring_monitored_project', 'watched');
    assert.equal(monitored.body.for_each, tf('local.monitored_projects'));
    assert.equal(monitored.body.metrics_scope, `locations/global/metricsScopes/${tf('var.project_id')}`);
    const projects = String(module.locals.get('monitored_projects'));
    assert.match(projects, /var\.enable_metadata_server_alert && var\.add_watched_projects_to_metrics_scope/);
    assert.match(projects, /if project != var\.project_id/);
  });

  test('reconcile may list log entries wherever it may read the sink: every Logging call it makes', () => {
    const adapter = readFileSync(join(REPO_ROOT, 'shared', 'gcp', 'logging.ts'), 'utf8');
    const needed = [...adapter.matchAll(/permission: '(logging\.[A-Za-z.]+)'/g)].map((m) => m[1] as string);
    assert.deepEqual(needed.sort(), ['logging.logEntries.list', 'logging.sinks.get']);
    const selfCheck: readonly string[] = CUSTOM_ROLES.self_check;
    for (const permission of needed) assert.ok(selfCheck.includes(permission), permission);
    for (const type of ['google_project_iam_custom_role', 'google_organization_iam_custom_role'])
      assert.equal(
        blockNamed(module, 'resource', type, 'sink_viewer').body.permissions,
        tf('local.roles.self_check'),
      );
    for (const name of ['sink_viewer']) {
      for (const type of [
        'google_project_iam_member',
        'google_organization_iam_member',
        'google_folder_iam_member',
      ]) {
        const grant: Block = blockNamed(module, 'resource', type, name);
        assert.equal(grant.body.member, tf('google_service_account.function["reconcile"].member'), type);
      }
    }
  });

  test('WI_SINK names the audit sink the module creates, at every scope; WI_AUDIT_TOPIC its topic', () => {
    const env = String(module.locals.get('common_env'));
    assert.match(env, /WI_SINK\s*=\s*local\.sink_names\.audit/);
    assert.match(env, /WI_AUDIT_TOPIC\s*=\s*local\.topics\.audit/);
    // The workload sink is named the same way, and only when it is created.
    assert.match(
      env,
      /var\.enable_workload_sink \? \{ WI_WORKLOAD_SINK = local\.sink_names\.workload \} : \{\}/,
    );
    const prefix = blocksOf(module, 'variable').find((v) => v.name === 'name_prefix')?.body.default as string;
    const expression = String(module.locals.get('sink_names'));
    assert.match(expression, /for name in keys\(local\.sinks\)/);
    const templates = [...expression.matchAll(/"([^"]*)"/g)]
      .map((m) => m[1] as string)
      .filter((text) => text.includes(tf('name')));
    const render = (template: string) =>
      template
        .replaceAll(tf('name'), 'audit')
        .replaceAll(tf('local.prefix'), prefix)
        .replaceAll(tf('var.folder_id'), '345678901234')
        .replaceAll(tf('var.organization_id'), '123456789012');
    const rendered = templates.map(render);
    assert.deepEqual(rendered, [
      'wi-sentinel-audit',
      'folders/345678901234/sinks/wi-sentinel-audit',
      'organizations/123456789012/sinks/wi-sentinel-audit',
    ]);
    // The sinks are named "${local.prefix}-${NAME}": the audit one is what WI_SINK names.
    for (const type of ['google_logging_organization_sink', 'google_logging_folder_sink'])
      assert.equal(
        blockNamed(module, 'resource', type, 'sink').body.name,
        `${tf('local.prefix')}-${tf('each.key')}`,
      );
    const projects = ['acme-prod', 'acme-staging'];
    for (const sink of rendered) {
      const config = loadConfig({
        GOOGLE_CLOUD_PROJECT: 'acme-tools',
        WI_PROJECTS: projects.join(','),
        WI_SINK: sink,
        WI_AUDIT_TOPIC: `${prefix}-audit`,
      });
      const names = sinkNamesOf(config.WI_SINK, projects);
      assert.ok(
        names.every((name) => name.endsWith(`/sinks/${prefix}-audit`)),
        names.join(', '),
      );
      assert.equal(
        topicNameOf(config.WI_AUDIT_TOPIC, 'acme-tools'),
        'projects/acme-tools/topics/wi-sentinel-audit',
      );
    }
    assert.deepEqual(sinkNamesOf([rendered[0] as string], projects), [
      'projects/acme-prod/sinks/wi-sentinel-audit',
      'projects/acme-staging/sinks/wi-sentinel-audit',
    ]);
  });

  test('the new switches are declared booleans that default on', () => {
    for (const name of [
      'enable_workload_sink',
      'enable_metadata_server_alert',
      'add_watched_projects_to_metrics_scope',
    ]) {
      const variable = blocksOf(module, 'variable').find((v) => v.name === name);
      assert.equal(variable?.body.type, tf('bool'), name);
      assert.equal(variable?.body.default, true, name);
    }
  });
});
