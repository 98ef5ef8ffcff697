import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../support/paths.ts';
import {
  type Block,
  type Body,
  blockNamed,
  blocksOf,
  expressionsOf,
  loadModule,
  referencesOf,
  stringsOf,
  type TfModule,
  unresolvedReferences,
  variablesUsed,
} from './terraform.ts';

// The Terraform module in infra/, checked without Terraform: it parses, every reference resolves,
// every resource has the arguments its provider requires, every IAM grant is read-only or narrowly
// scoped and carries a reason, and the examples call it with what it requires.
const INFRA = join(REPO_ROOT, 'infra');
const HERE = dirname(fileURLToPath(import.meta.url));

/** Terraform's `${…}` interpolation of an expression, as hcl2json writes it. */
const tf = (expression: string): string => ['$', '{', expression, '}'].join('');
const EXAMPLES = ['project', 'organization'].map((name) => join(INFRA, 'examples', name));

/**
 * Required arguments and blocks per resource type, from the google provider's documentation (6.x;
 * `terraform-provider-google` website/docs/r/*.html.markdown) and hashicorp/archive. A type missing
 * here fails the test: look its arguments up before using it.
 */
const REQUIRED: Record<string, string[]> = {
  google_cloud_run_v2_service_iam_member: ['name', 'role', 'member'],
  google_cloud_scheduler_job: ['name'],
  google_cloudfunctions2_function: ['name', 'location'],
  google_firestore_database: ['name', 'location_id', 'type'],
  google_firestore_field: ['collection', 'field'],
  google_folder_iam_member: ['folder', 'role', 'member'],
  google_logging_folder_sink: ['name', 'folder', 'destination'],
  google_logging_organization_sink: ['name', 'org_id', 'destination'],
  google_logging_project_sink: ['name', 'destination'],
  google_monitoring_alert_policy: ['display_name', 'combiner', 'conditions'],
  google_monitoring_monitored_project: ['metrics_scope', 'name'],
  google_monitoring_notification_channel: ['type'],
  google_organization_iam_custom_role: ['org_id', 'role_id', 'title', 'permissions'],
  google_organization_iam_member: ['org_id', 'role', 'member'],
  google_project_iam_custom_role: ['role_id', 'title', 'permissions'],
  google_project_iam_member: ['project', 'role', 'member'],
  google_project_service: ['service'],
  google_pubsub_subscription: ['name', 'topic'],
  google_pubsub_topic: ['name'],
  google_pubsub_topic_iam_member: ['topic', 'role', 'member'],
  google_secret_manager_secret: ['secret_id', 'replication'],
  google_secret_manager_secret_iam_member: ['secret_id', 'role', 'member'],
  google_secret_manager_secret_version: ['secret', 'secret_data'],
  google_service_account: ['account_id'],
  google_service_account_iam_member: ['service_account_id', 'role', 'member'],
  google_storage_bucket: ['name', 'location'],
  google_storage_bucket_iam_member: ['bucket', 'role', 'member'],
  google_storage_bucket_object: ['name', 'bucket'],
  terraform_data: [],
  'data.archive_file': ['type', 'output_path'],
  'data.google_project': [],
};

/** Required arguments of nested blocks, by `type.block.block…` (dynamic blocks count by their label). */
const REQUIRED_NESTED: Record<string, string[]> = {
  'google_cloudfunctions2_function.build_config': ['runtime', 'entry_point', 'source'],
  'google_cloudfunctions2_function.build_config.source': ['storage_source'],
  'google_cloudfunctions2_function.build_config.source.storage_source': ['bucket', 'object'],
  'google_cloudfunctions2_function.service_config.secret_environment_variables': [
    'key',
    'project_id',
    'secret',
    'version',
  ],
  'google_cloudfunctions2_function.service_config.secret_volumes': ['mount_path', 'project_id', 'secret'],
  'google_cloudfunctions2_function.service_config.secret_volumes.versions': ['version', 'path'],
  'google_cloudfunctions2_function.event_trigger': ['event_type'],
  'google_cloud_scheduler_job.pubsub_target': ['topic_name'],
  'google_monitoring_alert_policy.conditions': ['display_name'],
  'google_monitoring_alert_policy.conditions.condition_prometheus_query_language': ['query'],
  'google_monitoring_alert_policy.documentation': ['content'],
  'google_project_iam_member.condition': ['title', 'expression'],
  'google_storage_bucket.lifecycle_rule': ['action', 'condition'],
  'google_storage_bucket.lifecycle_rule.action': ['type'],
};

/** Predefined roles the module may grant: none of them can change IAM. */
const GRANTABLE_ROLES: Record<string, string> = {
  'roles/datastore.user': 'Firestore documents',
  'roles/pubsub.publisher': 'publish to one topic',
  'roles/secretmanager.secretAccessor': 'read one secret',
  'roles/run.invoker': 'invoke one function',
  'roles/logging.logWriter': 'write build logs',
  'roles/artifactregistry.writer': 'push built images',
  'roles/storage.objectViewer': 'read the source bucket',
  'roles/iam.serviceAccountTokenCreator': "Pub/Sub's agent signs push tokens for the trigger identity",
};

/** The live reads the functions make (shared/gcp), and nothing more. */
const READER_PERMISSIONS = [
  'container.clusters.get',
  'container.clusters.list',
  'container.namespaces.get',
  'container.namespaces.list',
  'container.networkPolicies.get',
  'container.networkPolicies.list',
  'container.nodes.get',
  'container.nodes.list',
  'container.pods.get',
  'container.pods.list',
  'container.serviceAccounts.get',
  'container.serviceAccounts.list',
  'iam.serviceAccounts.get',
  'iam.serviceAccounts.getIamPolicy',
  'iam.serviceAccounts.list',
  'resourcemanager.projects.getIamPolicy',
];

const typeKey = (block: Block) => (block.kind === 'data' ? `data.${block.type}` : (block.type as string));
const id = (block: Block) => `${block.file}: ${block.kind} ${block.type}.${block.name}`;

/** Nested blocks of a body by label, dynamic ones (their `content`) included. */
function nestedBlocks(body: Body): [string, Body][] {
  const found: [string, Body][] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === 'dynamic') {
      for (const [label, dynamics] of Object.entries(value as Record<string, Body[]>)) {
        for (const dynamic of dynamics)
          for (const content of dynamic.content as Body[]) found.push([label, content]);
      }
    } else if (Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null)) {
      for (const item of value as Body[]) found.push([key, item]);
    }
  }
  return found;
}

function has(body: Body, name: string): boolean {
  return name in body || (typeof body.dynamic === 'object' && body.dynamic !== null && name in body.dynamic);
}

/** Every problem of required arguments in a block and its nested blocks. */
function missingArguments(block: Block): string[] {
  const problems: string[] = [];
  const required = REQUIRED[typeKey(block)];
  if (required === undefined) return [`${id(block)}: type not in the required-arguments table`];
  for (const name of required) if (!has(block.body, name)) problems.push(`${id(block)}: missing ${name}`);
  const visit = (path: string, body: Body) => {
    for (const [label, nested] of nestedBlocks(body)) {
      const nestedPath = `${path}.${label}`;
      for (const name of REQUIRED_NESTED[nestedPath] ?? []) {
        if (!has(nested, name)) problems.push(`${id(block)}: ${nestedPath} missing ${name}`);
      }
      visit(nestedPath, nested);
    }
  };
  visit(block.type as string, block.body);
  return problems;
}

const isIamGrant = (block: Block) => block.kind === 'resource' && /_iam_member$/.test(block.type as string);

describe('infra/ Terraform module', () => {
  let module: TfModule;
  let examples: TfModule[];
  before(async () => {
    module = await loadModule(INFRA);
    examples = await Promise.all(EXAMPLES.map((dir) => loadModule(dir)));
  });

  test('every file parses, the module and its examples', () => {
    assert.ok(module.texts.size >= 10, `only ${module.texts.size} files`);
    assert.ok(blocksOf(module, 'resource').length >= 30);
    for (const example of examples) assert.equal(blocksOf(example, 'module').length, 1, example.dir);
  });

  test('every reference resolves: variables, locals, resources, data, each, count, dynamic iterators', () => {
    assert.deepEqual(unresolvedReferences(module), []);
    for (const example of examples) assert.deepEqual(unresolvedReferences(example), [], example.dir);
  });

  test('the reference check catches what it should', async () => {
    const problems = unresolvedReferences(await loadModule(join(HERE, 'fixtures', 'unresolved')));
    assert.deepEqual(problems.map((p) => p.replace(/^[^:]+: /, '')).sort(), [
      'resource.google_pubsub_topic.t.name: each.key outside a for_each block',
      'resource.google_pubsub_topic.t.name: local.missing refers to local.missing, which is not declared',
      'resource.google_pubsub_topic.t.name: var.nope refers to var.nope, which is not declared',
      'resource.google_pubsub_topic.u.name: google_pubsub_topic.gone.name refers to google_pubsub_topic.gone, which is not declared',
      'resource.google_pubsub_topic.w.name: data.google_project.none.number refers to data.google_project.none, which is not declared',
      'resource.google_pubsub_topic.w.y: d.key refers to d.key, which is not declared',
    ]);
  });

  test('every resource has the arguments its provider requires', () => {
    const problems = module.blocks
      .filter((block) => block.kind === 'resource' || block.kind === 'data')
      .flatMap(missingArguments);
    assert.deepEqual(problems, []);
  });

  test('the required-arguments check catches a missing one', () => {
    const block: Block = {
      file: 'x.tf',
      kind: 'resource',
      type: 'google_cloudfunctions2_function',
      name: 'f',
      body: {
        name: 'f',
        build_config: [{ runtime: 'nodejs22', source: [{ storage_source: [{ bucket: 'b' }] }] }],
      },
    };
    assert.deepEqual(missingArguments(block), [
      'x.tf: resource google_cloudfunctions2_function.f: missing location',
      'x.tf: resource google_cloudfunctions2_function.f: google_cloudfunctions2_function.build_config missing entry_point',
      'x.tf: resource google_cloudfunctions2_function.f: google_cloudfunctions2_function.build_config.source.storage_source missing object',
    ]);
  });

  test('providers are pinned; every variable has a description and a type, and is used', () => {
    const terraform = blocksOf(module, 'terraform')[0];
    assert.ok(terraform, 'no terraform block');
    const providers = (terraform.body.required_providers as Body[])[0] as Record<
      string,
      { version?: string }
    >;
    for (const name of ['google', 'archive']) assert.ok(providers[name]?.version, `${name} is not pinned`);
    const used = variablesUsed(module);
    for (const variable of blocksOf(module, 'variable')) {
      assert.ok(
        typeof variable.body.description === 'string' && variable.body.description.length > 20,
        variable.name,
      );
      assert.ok(variable.body.type, `${variable.name} has no type`);
      assert.ok(used.has(variable.name), `${variable.name} is never used`);
    }
  });

  test('variables that take a fixed form are validated', () => {
    const validated = blocksOf(module, 'variable')
      .filter((variable) => Array.isArray(variable.body.validation))
      .map((variable) => variable.name);
    for (const name of [
      'project_id',
      'region',
      'name_prefix',
      'scope',
      'organization_id',
      'folder_id',
      'watched_project_ids',
      'slack_channel',
      'status_min_instances',
      'max_delivery_attempts',
      'message_retention',
    ]) {
      assert.ok(validated.includes(name), `${name} has no validation`);
    }
    const minInstances = blocksOf(module, 'variable').find((v) => v.name === 'status_min_instances');
    const validation = (minInstances?.body.validation ?? []) as Body[];
    const condition = validation[0]?.condition as string;
    assert.match(condition, /var\.status_min_instances >= 1/, 'wiStatus must keep a warm instance');
  });

  test('the examples give every variable the module requires, and only variables it declares', () => {
    const declared = new Map(blocksOf(module, 'variable').map((v) => [v.name, v.body]));
    const required = [...declared].filter(([, body]) => !('default' in body)).map(([name]) => name);
    for (const example of examples) {
      const call = blocksOf(example, 'module')[0] as Block;
      assert.equal(call.body.source, '../..');
      const given = Object.keys(call.body).filter((key) => !['source', 'version', 'providers'].includes(key));
      for (const name of required) assert.ok(given.includes(name), `${example.dir} does not set ${name}`);
      for (const name of given) assert.ok(declared.has(name), `${example.dir} sets undeclared ${name}`);
    }
  });

  test('every IAM grant carries a one-line reason on the line above it', () => {
    const grants = module.blocks.filter(isIamGrant);
    assert.ok(grants.length >= 15, `only ${grants.length} grants`);
    for (const grant of grants) {
      const lines = (module.texts.get(grant.file) as string).split('\n');
      const at = lines.findIndex((line) => line.startsWith(`resource "${grant.type}" "${grant.name}"`));
      assert.ok(at > 0, id(grant));
      assert.match(lines[at - 1] as string, /^# \S.{15,}$/, `${id(grant)} has no reason above it`);
    }
  });

  test('no identity can change IAM: only read-only custom roles and narrow predefined roles', () => {
    for (const grant of module.blocks.filter(isIamGrant)) {
      const role = grant.body.role as string;
      if (role.startsWith('${')) {
        assert.match(role, /custom_role\.|local\.(reader|sink_viewer)_org_role/, `${id(grant)}: ${role}`);
      } else {
        assert.ok(role in GRANTABLE_ROLES, `${id(grant)} grants ${role}, which is not on the list`);
      }
    }
    for (const role of [
      ...blocksOf(module, 'resource', 'google_project_iam_custom_role'),
      ...blocksOf(module, 'resource', 'google_organization_iam_custom_role'),
    ]) {
      const reference = referencesOf(expressionsOf(role.body.permissions as string)[0] as string)[0];
      const permissions = module.locals.get(reference?.parts[0] as string) as string[];
      assert.ok(Array.isArray(permissions) && permissions.length > 0, id(role));
      for (const permission of permissions) {
        // Cloud Asset Inventory's searches read too (https://cloud.google.com/asset-inventory/docs/access-control).
        assert.match(
          permission,
          /\.(get|list|getIamPolicy|searchAllResources|searchAllIamPolicies)$/,
          `${id(role)}: ${permission} is not a read`,
        );
      }
    }
    assert.deepEqual(module.locals.get('reader_permissions'), READER_PERMISSIONS);
  });

  test('the one public grant is wiStatus, and the event functions take internal traffic only', () => {
    const publicGrants = module.blocks
      .filter(isIamGrant)
      .filter((grant) => ['allUsers', 'allAuthenticatedUsers'].includes(grant.body.member as string));
    assert.deepEqual(
      publicGrants.map((grant) => grant.body.name),
      [tf('google_cloudfunctions2_function.function["wiStatus"].service_config[0].service')],
    );
    const fn = blockNamed(module, 'resource', 'google_cloudfunctions2_function', 'function');
    const service = (fn.body.service_config as Body[])[0] as Body;
    assert.equal(
      service.ingress_settings,
      tf('each.value.topic == null ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"'),
    );
  });

  test('the four functions: nodejs22, their entry points, Pub/Sub triggers with retries, wiStatus warm', () => {
    const functions = module.locals.get('functions') as Record<string, Body>;
    assert.deepEqual(Object.keys(functions).sort(), ['auditEvents', 'reconcile', 'wiCommands', 'wiStatus']);
    assert.deepEqual(Object.fromEntries(Object.entries(functions).map(([key, fn]) => [key, fn.topic])), {
      auditEvents: 'audit',
      reconcile: 'reconcile',
      wiCommands: 'commands',
      wiStatus: null,
    });
    assert.equal(functions.wiStatus?.min_instances, tf('var.status_min_instances'));
    const fn = blockNamed(module, 'resource', 'google_cloudfunctions2_function', 'function');
    const build = (fn.body.build_config as Body[])[0] as Body;
    assert.equal(build.runtime, 'nodejs22');
    assert.equal(build.entry_point, tf('each.key'));
    const dynamicTrigger = (fn.body.dynamic as Record<string, Body[]>).event_trigger?.[0];
    const trigger = ((dynamicTrigger?.content ?? []) as Body[])[0] as Body;
    assert.equal(trigger.event_type, 'google.cloud.pubsub.topic.v1.messagePublished');
    assert.equal(trigger.retry_policy, 'RETRY_POLICY_RETRY');
    assert.equal(trigger.service_account_email, tf('google_service_account.trigger.email'));
  });

  test('topics have retention and dead-letter twins; the scheduler feeds the reconcile topic', () => {
    const topics = module.locals.get('topics') as Record<string, string>;
    assert.deepEqual(topics, {
      audit: `${tf('local.prefix')}-audit`,
      reconcile: `${tf('local.prefix')}-reconcile`,
      commands: `${tf('local.prefix')}-commands`,
    });
    for (const name of ['topic', 'dead_letter']) {
      const topic = blockNamed(module, 'resource', 'google_pubsub_topic', name);
      assert.equal(topic.body.for_each, tf('local.topics'));
      assert.equal(topic.body.message_retention_duration, tf('var.message_retention'));
    }
    const job = blockNamed(module, 'resource', 'google_cloud_scheduler_job', 'reconcile');
    assert.equal(
      ((job.body.pubsub_target as Body[])[0] as Body).topic_name,
      tf('google_pubsub_topic.topic["reconcile"].id'),
    );
  });

  test('sinks at every scope read their generated filter, and their writers may publish', () => {
    const sinks = module.locals.get('sinks') as Record<string, Body>;
    for (const name of Object.keys(sinks))
      assert.ok(existsSync(join(INFRA, 'filters', `${name}.filter`)), name);
    for (const type of [
      'google_logging_project_sink',
      'google_logging_organization_sink',
      'google_logging_folder_sink',
    ]) {
      const sink = blockNamed(module, 'resource', type, 'sink');
      assert.match(
        sink.body.filter as string,
        /file\("\$\{path\.module\}\/filters\/\$\{each\.(key|value\.sink)\}\.filter"\)/,
      );
      assert.match(
        sink.body.destination as string,
        /^pubsub\.googleapis\.com\/\$\{google_pubsub_topic\.topic\[/,
      );
      if (type !== 'google_logging_project_sink')
        assert.equal(sink.body.include_children, tf('var.include_children'));
      else assert.equal(sink.body.unique_writer_identity, true);
    }
    const writers = module.locals.get('sink_writers') as string;
    for (const type of ['project', 'organization', 'folder'])
      assert.match(writers, new RegExp(`google_logging_${type}_sink\\.sink`));
    const grant = blockNamed(module, 'resource', 'google_pubsub_topic_iam_member', 'sink_writer');
    assert.equal(grant.body.for_each, tf('local.sink_writers'));
    assert.equal(grant.body.role, 'roles/pubsub.publisher');
  });

  test('secrets come from Secret Manager, mounted as the environment, never as plain variables', () => {
    const fn = blockNamed(module, 'resource', 'google_cloudfunctions2_function', 'function');
    const text = JSON.stringify(fn.body);
    for (const secret of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'PAGERDUTY_ROUTING_KEY']) {
      assert.doesNotMatch(JSON.stringify(module.locals.get('common_env')), new RegExp(secret));
      assert.match(module.locals.get('secrets') as string, new RegExp(`= "${secret}"`), secret);
    }
    assert.match(text, /secret_environment_variables/);
    const value = blocksOf(module, 'variable').find((v) => v.name === 'secret_values');
    assert.equal(value?.body.sensitive, true);
  });

  test('the module zips what `npm run build` (gcp-build) compiles into the package main', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      main: string;
      scripts: Record<string, string>;
    };
    assert.equal(pkg.main, 'dist/functions/index.js');
    assert.match(pkg.scripts['gcp-build'] ?? '', /npm run build/);
    const build = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    const archive = blockNamed(module, 'data', 'archive_file', 'source');
    const excludes = archive.body.excludes as string[];
    for (const needed of [
      'functions',
      'shared',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
    ]) {
      assert.ok(!excludes.includes(needed), `${needed} is excluded from the source zip`);
      assert.ok(existsSync(join(REPO_ROOT, needed)), needed);
    }
    for (const dir of ['functions', 'shared']) assert.ok(build.include.includes(dir), dir);
    for (const heavy of ['node_modules', 'dist', 'test', '.git', 'infra'])
      assert.ok(excludes.includes(heavy), heavy);
  });

  test('no literal secret or key material anywhere in the module', () => {
    for (const block of module.blocks) {
      for (const { text } of stringsOf(block.body)) {
        assert.doesNotMatch(text, /xox[abep]-[A-Za-z0-9-]{10,}|-----BEGIN|"private_key"/, id(block));
      }
    }
    assert.equal(
      blocksOf(module, 'resource', 'google_service_account_key').length,
      0,
      'no service account keys',
    );
  });
});
