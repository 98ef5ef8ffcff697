import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT } from '../support/paths.ts';
import {
  checkModule,
  checkVersionPins,
  describeProblem,
  type ModuleFiles,
  type Problem,
  type ProviderSchema,
  readModuleFiles,
  versionRange,
} from './schema-check.ts';

// infra/ and each example against the google provider's schema at both ends of the module's version
// pin, as `terraform validate` would judge them with each (no Terraform binary can be downloaded
// here). The schemas are trimmed copies rebuilt from @cdktf/provider-google by
// provider-schemas/extract.ts; the self-test below plants one defect of each kind and sees it caught.
const INFRA = join(REPO_ROOT, 'infra');
const SCHEMAS = join(REPO_ROOT, 'test', 'infra', 'provider-schemas');
const readSchema = (file: string) => JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as ProviderSchema;

/** The oldest google release the pin admits, and the newest 6.x: the two ends of `>= 6.9.0, < 7.0.0`. */
const FLOOR = readSchema('google-6.9.0.json');
const TOP = readSchema('google-6.50.0.json');
const ARCHIVE = readSchema('archive-2.7.1.json');

const MODULES = [
  { name: 'infra', dir: INFRA },
  { name: 'examples/project', dir: join(INFRA, 'examples', 'project') },
  { name: 'examples/organization', dir: join(INFRA, 'examples', 'organization') },
];

const loadModule = (dir: string): ModuleFiles | undefined => {
  try {
    return readModuleFiles(dir);
  } catch {
    return undefined;
  }
};

const check = (dir: string, files: ModuleFiles, google: ProviderSchema): Problem[] =>
  checkModule(dir, files, { schemas: [google, ARCHIVE], loadModule });

describe('infra/ against the google provider schema at both ends of its version pin', () => {
  for (const google of [FLOOR, TOP]) {
    for (const { name, dir } of MODULES) {
      test(`${name} is valid against google ${google.version} (${google.source})`, () => {
        assert.deepEqual(check(dir, readModuleFiles(dir), google).map(describeProblem), []);
      });
    }
  }

  test('the pins admit google from the floor checked to the newest 6.x checked, and nothing else', () => {
    const modules = MODULES.map(({ dir }) => ({ dir, files: readModuleFiles(dir) }));
    assert.deepEqual(
      checkVersionPins(modules, 'google', FLOOR.version, TOP.version).map(describeProblem),
      [],
    );
  });

  test('the trimmed schemas hold every type the module and examples use, and name their source', () => {
    for (const schema of [FLOOR, TOP]) {
      assert.equal(schema.provider, 'hashicorp/google');
      assert.match(schema.source, /^@cdktf\/provider-google@\d+\.\d+\.\d+$/);
      // Every other type is kept by name, so an unknown type is told from a trimmed one.
      assert.ok(schema.resourceTypes.length > 800, `${schema.version}: ${schema.resourceTypes.length} types`);
      assert.ok(schema.providerConfig, 'the provider block');
    }
    for (const { dir } of MODULES) {
      for (const text of readModuleFiles(dir).values()) {
        for (const match of text.matchAll(/^\s*(resource|data)\s+"(google_\w+)"/gm)) {
          const kept = match[1] === 'resource' ? TOP.resources : TOP.dataSources;
          assert.ok(
            kept[match[2] as string],
            `${match[2]} is not in the trimmed schema: run extract.ts again`,
          );
          const keptAtFloor = match[1] === 'resource' ? FLOOR.resources : FLOOR.dataSources;
          assert.ok(keptAtFloor[match[2] as string], `${match[2]} is not in the floor's trimmed schema`);
        }
      }
    }
  });

  test('version constraints read as Terraform reads them', () => {
    assert.deepEqual(versionRange('>= 6.9.0, < 7.0.0'), { lowest: [6, 9, 0], below: [7, 0, 0] });
    assert.deepEqual(versionRange('~> 6.9'), { lowest: [6, 9, 0], below: [7, 0, 0] });
    assert.deepEqual(versionRange('~> 6.9.1'), { lowest: [6, 9, 1], below: [6, 10, 0] });
    assert.deepEqual(versionRange('> 6.8.0, <= 6.50.0'), { lowest: [6, 8, 1], below: [6, 50, 1] });
    assert.deepEqual(versionRange('= 6.9.0'), { lowest: [6, 9, 0], below: [6, 9, 1] });
    assert.deepEqual(versionRange('>= 6.0'), { lowest: [6, 0, 0] });
    assert.match(versionRange('>= six').error ?? '', /cannot read the version constraint/);
  });
});

// ----------------------------------------------------------------------------- the self-test

interface Plant {
  name: string;
  /** Module (by name in MODULES) and file the defect goes into. */
  module?: string;
  file: string;
  /** Text that must occur exactly once in the file, and what replaces it. */
  find: string;
  replace: string;
  /** The schema the defect is judged against (default both). */
  against?: ProviderSchema[];
  /** What must be reported, and nothing else: kind, and a pattern of the message. */
  expect: { kind: Problem['kind']; message: RegExp };
}

/** Terraform's `${…}` interpolation of an expression. */
const tf = (expression: string): string => ['$', '{', expression, '}'].join('');

const SERVICE_CONFIG_SERVICE = 'google_cloudfunctions2_function.function[each.key].service_config[0].service';

const PLANTS: Plant[] = [
  {
    name: 'a resource type that does not exist',
    file: 'pubsub.tf',
    find: '# The three topics',
    replace: 'resource "google_pubsub_topik" "extra" {\n  name = "x"\n}\n\n# The three topics',
    expect: {
      kind: 'unknown-type',
      message: /resource type google_pubsub_topik does not exist in hashicorp\/google/,
    },
  },
  {
    name: 'an argument the resource does not have',
    file: 'firestore.tf',
    find: '  type                              = "FIRESTORE_NATIVE"\n',
    replace:
      '  type                              = "FIRESTORE_NATIVE"\n  retention                         = "7d"\n',
    expect: {
      kind: 'unknown-argument',
      message: /google_firestore_database\.retention: unsupported argument/,
    },
  },
  {
    name: 'a block the resource does not have',
    file: 'pubsub.tf',
    find: '  retry_policy {\n    minimum_backoff',
    replace: '  retry_settings {\n    minimum_backoff',
    expect: {
      kind: 'unknown-block',
      message: /google_pubsub_subscription\.retry_settings: unsupported block/,
    },
  },
  {
    name: 'an argument written as a block',
    file: 'source.tf',
    find: '  labels                      = local.labels\n',
    replace: '  labels {\n    app = "wi-sentinel"\n  }\n',
    expect: { kind: 'argument-as-block', message: /google_storage_bucket\.labels is an argument/ },
  },
  {
    name: 'a block written as an argument',
    file: 'scheduler.tf',
    find: '  retry_config {\n    retry_count = 1\n  }',
    replace: '  retry_config = { retry_count = 1 }',
    expect: { kind: 'block-as-argument', message: /google_cloud_scheduler_job\.retry_config is a block/ },
  },
  {
    name: 'a required argument left out',
    file: 'pubsub.tf',
    find: '  topic                      = google_pubsub_topic.dead_letter[each.key].id\n',
    replace: '',
    expect: {
      kind: 'missing-argument',
      message: /google_pubsub_subscription: the required argument topic is missing/,
    },
  },
  {
    name: 'a required block left out',
    file: 'secrets.tf',
    find: `  secret_id = "${tf('local.prefix')}-routes"\n  labels    = local.labels\n\n  replication {\n    auto {}\n  }\n`,
    replace: `  secret_id = "${tf('local.prefix')}-routes"\n  labels    = local.labels\n`,
    expect: {
      kind: 'missing-block',
      message: /google_secret_manager_secret: the required block replication is missing/,
    },
  },
  {
    name: 'a block that takes one item, twice',
    file: 'scheduler.tf',
    find: '  retry_config {\n    retry_count = 1\n  }',
    replace: '  retry_config {\n    retry_count = 1\n  }\n  retry_config {\n    retry_count = 2\n  }',
    expect: {
      kind: 'too-many-blocks',
      message: /google_cloud_scheduler_job\.retry_config takes at most 1 block, found 2/,
    },
  },
  {
    name: 'an attribute only the provider sets',
    file: 'sinks.tf',
    find: '  unique_writer_identity = true\n',
    replace: '  unique_writer_identity = true\n  writer_identity        = "serviceAccount:x@example.com"\n',
    expect: {
      kind: 'read-only',
      message: /google_logging_project_sink\.writer_identity is set by the provider/,
    },
  },
  {
    name: 'a value outside an enum, in one arm of a conditional',
    file: 'functions.tf',
    find: '"ALLOW_INTERNAL_ONLY"',
    replace: '"INTERNAL_ONLY"',
    expect: {
      kind: 'enum',
      message: /ingress_settings = "INTERNAL_ONLY" is not one of "ALLOW_ALL", "ALLOW_INTERNAL_ONLY"/,
    },
  },
  {
    name: 'a reference to an attribute that does not exist',
    file: 'outputs.tf',
    find: 'google_cloudfunctions2_function.function["wiStatus"].service_config[0].uri',
    replace: 'google_cloudfunctions2_function.function["wiStatus"].service_config[0].url',
    expect: { kind: 'reference', message: /service_config\[…\] has no attribute url/ },
  },
  {
    name: 'a list block read without its index',
    file: 'iam.tf',
    find: `  name     = ${SERVICE_CONFIG_SERVICE}\n  role     = "roles/run.invoker"\n  member   = google_service_account.trigger.member`,
    replace: `  name     = google_cloudfunctions2_function.function[each.key].service_config.service\n  role     = "roles/run.invoker"\n  member   = google_service_account.trigger.member`,
    expect: {
      kind: 'reference',
      message: /service_config is a list of blocks: index it \(service_config\[0\]\.service\)/,
    },
  },
  {
    name: 'a set of blocks read by index',
    file: 'outputs.tf',
    find: 'output "topics" {',
    replace:
      'output "source_expiry" {\n  description = "x"\n  value       = google_storage_bucket.source.lifecycle_rule[0].action[0].type\n}\n\noutput "topics" {',
    expect: {
      kind: 'reference',
      message: /lifecycle_rule\[…\]\.action is a set of blocks, it cannot be indexed/,
    },
  },
  {
    name: 'a for_each resource read without its instance key',
    file: 'monitoring.tf',
    find: 'labels       = { topic = google_pubsub_topic.topic["audit"].id }',
    replace: 'labels       = { topic = google_pubsub_topic.topic.id }',
    expect: { kind: 'instance-key', message: /google_pubsub_topic\.topic has count or for_each/ },
  },
  {
    name: 'an argument newer than the floor of the pin (caught at the floor only)',
    file: 'pubsub.tf',
    find: '  retry_policy {\n    minimum_backoff',
    replace: '  message_transforms {\n    disabled = true\n  }\n\n  retry_policy {\n    minimum_backoff',
    against: [FLOOR],
    expect: {
      kind: 'unknown-block',
      message: /google_pubsub_subscription\.message_transforms: unsupported block/,
    },
  },
  {
    name: 'a module call without a required variable',
    module: 'examples/project',
    file: 'main.tf',
    find: '  slack_channel = var.slack_channel\n',
    replace: '',
    expect: {
      kind: 'module-call',
      message: /module wi_sentinel: the required variable slack_channel is not set/,
    },
  },
];

const VERSION_PLANTS: { name: string; module: string; constraint: string; message: RegExp }[] = [
  {
    name: 'a floor below the oldest schema checked',
    module: 'infra',
    constraint: '>= 6.0, < 7.0.0',
    message: /admits 6\.0\.0, older than 6\.9\.0, the oldest version the module is checked against/,
  },
  {
    name: 'a ceiling that admits the next major version',
    module: 'examples/organization',
    constraint: '>= 6.9.0, < 8.0',
    message: /admits 7\.x and later, newer than 6\.50\.0/,
  },
];

/** The module's files with one defect planted (the text to replace must occur exactly once). */
function planted(plant: Plant): { dir: string; files: ModuleFiles } {
  const { dir } = MODULES.find((m) => m.name === (plant.module ?? 'infra')) as (typeof MODULES)[number];
  const files = new Map(readModuleFiles(dir));
  const text = files.get(plant.file);
  assert.ok(text !== undefined, `${plant.file} is not in ${dir}`);
  assert.equal(
    text.split(plant.find).length,
    2,
    `the text to plant into occurs exactly once in ${plant.file}`,
  );
  files.set(plant.file, text.replace(plant.find, plant.replace));
  return { dir, files };
}

describe('the schema check catches one planted defect of each kind', () => {
  for (const plant of PLANTS) {
    test(plant.name, () => {
      const { dir, files } = planted(plant);
      for (const google of plant.against ?? [FLOOR, TOP]) {
        const problems = check(dir, files, google);
        assert.equal(
          problems.length,
          1,
          `google ${google.version}: ${problems.map(describeProblem).join('\n')}`,
        );
        const [problem] = problems as [Problem];
        assert.equal(problem.kind, plant.expect.kind, describeProblem(problem));
        assert.match(problem.message, plant.expect.message);
        assert.equal(problem.file, plant.file);
        // The line is where the defect is.
        const line = (files.get(plant.file) as string).split('\n')[problem.line - 1] ?? '';
        assert.ok(line.trim() !== '', `line ${problem.line} of ${plant.file} is empty`);
      }
      if (plant.against?.length === 1) {
        // Not a defect at the newest end: the check at the floor is what caught it.
        assert.deepEqual(check(dir, files, TOP).map(describeProblem), []);
      }
    });
  }

  for (const plant of VERSION_PLANTS) {
    test(`a version pin: ${plant.name}`, () => {
      const { dir, files } = planted({
        name: plant.name,
        module: plant.module,
        file: plant.module === 'infra' ? 'versions.tf' : 'main.tf',
        find: '">= 6.9.0, < 7.0.0"',
        replace: JSON.stringify(plant.constraint),
        expect: { kind: 'version', message: plant.message },
      });
      const problems = checkVersionPins([{ dir, files }], 'google', FLOOR.version, TOP.version);
      assert.equal(problems.length, 1, problems.map(describeProblem).join('\n'));
      assert.match((problems[0] as Problem).message, plant.message);
    });
  }

  test('a syntax error is reported with its file and line, not thrown', () => {
    const files: ModuleFiles = new Map([
      ['broken.tf', 'resource "google_pubsub_topic" "t" {\n  name = "x"\n'],
    ]);
    const problems = check(INFRA, files, TOP);
    assert.deepEqual(problems.map(describeProblem), [
      'broken.tf:3: broken.tf:3: a block is not closed [syntax]',
    ]);
  });
});
