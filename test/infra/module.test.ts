import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CUSTOM_ROLES, READ_PERMISSIONS } from '../../shared/gcp/permissions.ts';
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
// every IAM grant is read-only or narrowly scoped and carries a reason, nothing races the enabling of
// the APIs, and the examples call it with what it requires. What the provider's schema says of each
// resource (arguments, blocks, enums, attribute paths, the version pin) is schema.test.ts's.
const INFRA = join(REPO_ROOT, 'infra');
const HERE = dirname(fileURLToPath(import.meta.url));

/** Terraform's `${…}` interpolation of an expression, as hcl2json writes it. */
const tf = (expression: string): string => ['$', '{', expression, '}'].join('');
const EXAMPLES = ['project', 'organization'].map((name) => join(INFRA, 'examples', name));

/** Predefined roles the module may grant: none of them can change IAM. */
const GRANTABLE_ROLES: Record<string, string> = {
  'roles/datastore.user': 'Firestore documents',
  'roles/pubsub.publisher': 'publish to one topic',
  'roles/secretmanager.secretAccessor': 'read one secret',
  'roles/run.invoker': 'invoke one function',
  'roles/logging.logWriter': 'write build logs',
  'roles/artifactregistry.writer': "push built images to wi-sentinel's repository",
  'roles/storage.objectViewer': 'read the sources Cloud Functions copies for the build',
  'roles/iam.serviceAccountTokenCreator': "Pub/Sub's agent signs push tokens for the push identity",
  'roles/pubsub.subscriber': "Pub/Sub's agent acknowledges what it moves to a dead-letter topic",
};

const id = (block: Block) => `${block.file}: ${block.kind} ${block.type}.${block.name}`;

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
    // Each custom role's permissions are the generated list of the code's reads (generated.test.ts
    // keeps infra/generated/roles.json equal to CUSTOM_ROLES), and every one of them is a read.
    assert.equal(
      module.locals.get('roles'),
      tf(`jsondecode(file("${tf('path.module')}/generated/roles.json"))`),
    );
    const generated = JSON.parse(readFileSync(join(INFRA, 'generated', 'roles.json'), 'utf8')) as Record<
      string,
      string[]
    >;
    assert.deepEqual(generated, JSON.parse(JSON.stringify(CUSTOM_ROLES)));
    for (const role of [
      ...blocksOf(module, 'resource', 'google_project_iam_custom_role'),
      ...blocksOf(module, 'resource', 'google_organization_iam_custom_role'),
    ]) {
      const reference = referencesOf(expressionsOf(role.body.permissions as string)[0] as string)[0];
      assert.equal(reference?.root, 'local', id(role));
      assert.deepEqual(reference?.parts.slice(0, 1), ['roles'], id(role));
      const permissions = generated[reference?.parts[1] as string];
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
    assert.deepEqual(generated.reader, [...READ_PERMISSIONS]);
  });

  test('the public grants are wiStatus and pagerdutyWebhook, which domain-restricted organizations can turn off; event functions take internal traffic only', () => {
    const publicGrants = module.blocks
      .filter(isIamGrant)
      .filter((grant) => ['allUsers', 'allAuthenticatedUsers'].includes(grant.body.member as string));
    assert.deepEqual(publicGrants.map((grant) => grant.body.name).sort(), [
      tf('google_cloudfunctions2_function.function["pagerdutyWebhook"].service_config[0].service'),
      tf('google_cloudfunctions2_function.function["wiStatus"].service_config[0].service'),
    ]);
    for (const grant of publicGrants)
      assert.equal(grant.body.count, tf('var.status_allow_all_users ? 1 : 0'));
    const variable = blocksOf(module, 'variable').find((v) => v.name === 'status_allow_all_users');
    assert.equal(variable?.body.default, true);
    assert.match(String(variable?.body.description), /domain-restricted sharing/);
    assert.match(readFileSync(join(INFRA, 'README.md'), 'utf8'), /--no-invoker-iam-check/);
    const fn = blockNamed(module, 'resource', 'google_cloudfunctions2_function', 'function');
    const service = (fn.body.service_config as Body[])[0] as Body;
    assert.equal(
      service.ingress_settings,
      tf('each.value.topic == null ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"'),
    );
  });

  test('the five functions: nodejs22, their entry points, no Eventarc trigger, wiStatus warm', () => {
    const functions = module.locals.get('functions') as Record<string, Body>;
    assert.deepEqual(Object.keys(functions).sort(), [
      'auditEvents',
      'pagerdutyWebhook',
      'reconcile',
      'wiCommands',
      'wiStatus',
    ]);
    assert.deepEqual(Object.fromEntries(Object.entries(functions).map(([key, fn]) => [key, fn.topic])), {
      auditEvents: 'audit',
      reconcile: 'reconcile',
      wiCommands: 'commands',
      pagerdutyWebhook: null,
      wiStatus: null,
    });
    assert.equal(functions.wiStatus?.min_instances, tf('var.status_min_instances'));
    const fn = blockNamed(module, 'resource', 'google_cloudfunctions2_function', 'function');
    const build = (fn.body.build_config as Body[])[0] as Body;
    assert.equal(build.runtime, 'nodejs22');
    assert.equal(build.entry_point, tf('each.key'));
    // Each event function is fed by its own push subscription (pubsub.tf), declared in full.
    assert.equal(fn.body.event_trigger, undefined);
    assert.equal((fn.body.dynamic as Record<string, unknown> | undefined)?.event_trigger, undefined);
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
  test('delivery is declared in full: a push subscription per event function, with an OIDC token, retries, a dead-letter topic and an ack deadline', () => {
    const push = blockNamed(module, 'resource', 'google_pubsub_subscription', 'push');
    assert.equal(push.body.for_each, tf('local.event_functions'));
    assert.equal(push.body.topic, tf('google_pubsub_topic.topic[each.value.topic].id'));
    // Pub/Sub waits for the function as long as the function may run (Pub/Sub's ceiling is 600 s).
    assert.equal(push.body.ack_deadline_seconds, tf('each.value.timeout'));
    const functions = module.locals.get('functions') as Record<string, Body>;
    for (const [name, fn] of Object.entries(functions)) {
      if (fn.topic !== null) assert.ok((fn.timeout as number) >= 10 && (fn.timeout as number) <= 600, name);
    }
    const config = ((push.body.push_config as Body[])[0] ?? {}) as Body;
    const uri = 'google_cloudfunctions2_function.function[each.key].service_config[0].uri';
    // The path names the topic: functions-framework makes it the CloudEvent's source.
    assert.equal(
      config.push_endpoint,
      `${tf(uri)}/projects/${tf('var.project_id')}/topics/${tf('google_pubsub_topic.topic[each.value.topic].name')}`,
    );
    assert.equal(
      config.no_wrapper,
      undefined,
      'the push body keeps its wrapper, which functions-framework converts',
    );
    const token = ((config.oidc_token as Body[])[0] ?? {}) as Body;
    assert.equal(token.service_account_email, tf('google_service_account.trigger.email'));
    assert.equal(token.audience, tf(uri));
    const deadLetter = ((push.body.dead_letter_policy as Body[])[0] ?? {}) as Body;
    assert.equal(deadLetter.dead_letter_topic, tf('google_pubsub_topic.dead_letter[each.value.topic].id'));
    assert.equal(deadLetter.max_delivery_attempts, tf('var.max_delivery_attempts'));
    const retry = ((push.body.retry_policy as Body[])[0] ?? {}) as Body;
    assert.deepEqual(retry, { minimum_backoff: '10s', maximum_backoff: '600s' });
    // The push identity may invoke exactly the event functions; Pub/Sub's agent may sign its tokens,
    // publish to the dead-letter topics and acknowledge on the push subscriptions.
    const invoker = blockNamed(
      module,
      'resource',
      'google_cloud_run_v2_service_iam_member',
      'trigger_invoker',
    );
    assert.equal(invoker.body.for_each, tf('local.event_functions'));
    assert.equal(invoker.body.member, tf('google_service_account.trigger.member'));
    const subscriber = blockNamed(
      module,
      'resource',
      'google_pubsub_subscription_iam_member',
      'dead_letter_subscriber',
    );
    assert.equal(subscriber.body.subscription, tf('google_pubsub_subscription.push[each.key].name'));
    assert.equal(subscriber.body.member, `serviceAccount:${tf('local.pubsub_service_agent')}`);
    // Nothing runs a command at apply time: no provisioner, no terraform_data, no script.
    for (const block of module.blocks) {
      assert.equal(block.body.provisioner, undefined, `${id(block)} runs a provisioner`);
      assert.notEqual(block.type, 'terraform_data', id(block));
      assert.notEqual(block.type, 'null_resource', id(block));
    }
    assert.ok(!existsSync(join(INFRA, 'scripts')), 'no script for the runner to need');
  });

  test('the build identity may read the sources Cloud Build fetches: the gcf-v2-sources bucket of the region', () => {
    const fn = blockNamed(module, 'resource', 'google_cloudfunctions2_function', 'function');
    const build = (fn.body.build_config as Body[])[0] as Body;
    assert.equal(build.service_account, tf('google_service_account.build.id'));
    const grant = blockNamed(module, 'resource', 'google_project_iam_member', 'build_sources');
    assert.equal(grant.body.role, 'roles/storage.objectViewer');
    assert.equal(grant.body.member, tf('google_service_account.build.member'));
    assert.equal(
      module.locals.get('sources_bucket'),
      `projects/_/buckets/gcf-v2-sources-${tf('data.google_project.this.number')}-${tf('var.region')}`,
    );
    // Granted on the project (the bucket may not exist before the first deployment), limited to that
    // bucket and its objects by a condition.
    const condition = (grant.body.condition as Body[])[0] as Body;
    assert.equal(
      condition.expression,
      `resource.name == "${tf('local.sources_bucket')}" || resource.name.startsWith("${tf('local.sources_bucket')}/")`,
    );
    assert.ok((fn.body.depends_on as string[]).includes(tf('google_project_iam_member.build_sources')));
  });

  test('the build identity may push images to wi-sentinel’s own repository only', () => {
    const fn = blockNamed(module, 'resource', 'google_cloudfunctions2_function', 'function');
    const build = (fn.body.build_config as Body[])[0] as Body;
    assert.equal(build.docker_repository, tf('google_artifact_registry_repository.functions.id'));
    const repository = blockNamed(module, 'resource', 'google_artifact_registry_repository', 'functions');
    assert.equal(repository.body.format, 'DOCKER');
    assert.equal(
      repository.body.location,
      tf('var.region'),
      'Cloud Functions takes a repository of its own region',
    );
    const writers = module.blocks
      .filter(isIamGrant)
      .filter((grant) => grant.body.role === 'roles/artifactregistry.writer');
    assert.deepEqual(
      writers.map((grant) => `${grant.type}.${grant.name}`),
      ['google_artifact_registry_repository_iam_member.build_images'],
    );
    assert.equal(writers[0]?.body.repository, tf('google_artifact_registry_repository.functions.name'));
  });

  test('one sink-writer grant per sink parent and topic, so turning one sink off revokes nothing', () => {
    const grant = blockNamed(module, 'resource', 'google_pubsub_topic_iam_member', 'sink_writer');
    assert.equal(grant.body.for_each, tf('local.sink_writers'));
    const writers = String(module.locals.get('sink_writers'));
    // Keyed by parent and topic, known at plan time; never by sink, never by the identity.
    const keys = [...writers.matchAll(/"((?:projects|organizations|folders)\/[^"]*)" =>/g)].map((m) => m[1]);
    assert.deepEqual(keys, [
      `projects/${tf('pair[0]')}/${tf('pair[1]')}`,
      `organizations/${tf('var.organization_id')}/${tf('topic')}`,
      `folders/${tf('var.folder_id')}/${tf('topic')}`,
    ]);
    assert.doesNotMatch(writers, /for \w+, \w+ in google_logging_/, 'not one entry per sink');
    // The identity is read from the audit sink, which every scope always creates.
    const sinks = module.locals.get('sinks') as Record<string, Body>;
    assert.equal(sinks.audit?.enabled, true);
    const members = [
      ...writers.matchAll(/member = (google_logging_\w+_sink\.sink\["[^"]*"\]\.writer_identity)/g),
    ].map((m) => m[1]);
    assert.deepEqual(members, [
      `google_logging_project_sink.sink["audit/${tf('pair[0]')}"].writer_identity`,
      'google_logging_organization_sink.sink["audit"].writer_identity',
      'google_logging_folder_sink.sink["audit"].writer_identity',
    ]);
    // Turning the workload sink off leaves the topics, and so the keys, as they were.
    assert.equal(
      module.locals.get('sink_topics'),
      tf('distinct([for name, sink in local.enabled_sinks : sink.topic])'),
    );
    assert.equal(sinks.workload?.topic, sinks.audit?.topic);
  });

  test('a fresh project in one apply: identities, custom roles and service-agent grants wait for the APIs, and so does everything else', async () => {
    const graph = await dependencies(INFRA);
    const api = 'google_project_service.api';
    const direct = [...graph.entries()].filter(([address]) =>
      /^(google_service_account\.|google_project_iam_custom_role\.|google_organization_iam_custom_role\.)/.test(
        address,
      ),
    );
    assert.ok(direct.length >= 6, direct.map(([a]) => a).join(', '));
    for (const [address, node] of direct)
      assert.ok(node.dependsOn.includes(api), `${address} does not depend on ${api}`);
    // Grants to a Google service agent: the agent is created when its API is enabled.
    const agentGrants = [...graph.entries()].filter(([, node]) =>
      /_service_agent|notification_agent/.test(node.member),
    );
    assert.ok(agentGrants.length >= 4, agentGrants.map(([a]) => a).join(', '));
    for (const [address, node] of agentGrants)
      assert.ok(node.dependsOn.includes(api), `${address} does not depend on ${api}`);
    // Everything else reaches it through what it references.
    const reaches = (address: string, seen = new Set<string>()): boolean => {
      if (address === api) return true;
      if (seen.has(address)) return false;
      seen.add(address);
      return (graph.get(address)?.references ?? []).some((next) => reaches(next, seen));
    };
    const racing = [...graph.keys()].filter(
      (address) =>
        address !== api &&
        address.includes('.') &&
        !address.startsWith('local.') &&
        !address.startsWith('data.') &&
        !reaches(address),
    );
    assert.deepEqual(racing, []);
  });
});

interface Node {
  /** What it refers to: resources, data sources and locals (depends_on included). */
  references: string[];
  /** Its depends_on list. */
  dependsOn: string[];
  /** Its `member` expression, for grants. */
  member: string;
}

/** Every resource, data source and local of a module with what it refers to. */
async function dependencies(dir: string): Promise<Map<string, Node>> {
  const { readHcl } = await import('./hcl.ts');
  const { traversalsOf } = await import('./schema-check.ts');
  const graph = new Map<string, Node>();
  const bodies: { address: string; body: import('./hcl.ts').HclBody }[] = [];
  for (const [file, text] of (await import('./schema-check.ts')).readModuleFiles(dir)) {
    for (const block of readHcl(text, file).blocks) {
      if (block.type === 'resource') bodies.push({ address: block.labels.join('.'), body: block.body });
      if (block.type === 'data') bodies.push({ address: `data.${block.labels.join('.')}`, body: block.body });
      if (block.type === 'locals') {
        for (const attribute of block.body.attributes)
          bodies.push({ address: `local.${attribute.name}`, body: { attributes: [attribute], blocks: [] } });
      }
    }
  }
  const declared = new Set(bodies.map((b) => b.address));
  const expressions = (body: import('./hcl.ts').HclBody): string[] => [
    ...body.attributes.map((a) => a.expression),
    ...body.blocks.flatMap((b) => expressions(b.body)),
  ];
  const targets = (expression: string): string[] =>
    traversalsOf(expression).flatMap((t) => {
      const [first, second] = t.steps;
      const name = (step: typeof first) => (step?.kind === 'attribute' ? step.name : '');
      const candidates =
        t.root === 'data' ? [`data.${name(first)}.${name(second)}`] : [`${t.root}.${name(first)}`];
      return candidates.filter((c) => declared.has(c));
    });
  for (const { address, body } of bodies) {
    const dependsOn = body.attributes.find((a) => a.name === 'depends_on')?.expression ?? '';
    graph.set(address, {
      references: [...new Set(expressions(body).flatMap(targets))],
      dependsOn: targets(dependsOn),
      member: body.attributes.find((a) => a.name === 'member')?.expression ?? '',
    });
  }
  return graph;
}
