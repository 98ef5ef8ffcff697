import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { SINK_FILTERS } from '../../cli/sink-filter.ts';
import { loadConfig } from '../../shared/config.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { type Body, blocksOf, loadModule, type TfModule } from './terraform.ts';

// What infra/ wires must exist in the code: each function it deploys is registered under that name
// and kind in functions/index.ts, each environment variable it sets is one shared/config.ts reads
// (and the values it sets pass its validation), each topic feeds a function or is the one the code
// publishes to, and each sink has a generated filter.

/** functions-framework registrations in the entry file: target name → `cloudEvent` or `http`. */
function registrations(): Map<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'functions', 'index.ts'), 'utf8');
  return new Map(
    [...text.matchAll(/\b(cloudEvent|http)\(\s*['"](\w+)['"]/g)].map((m) => [m[2] as string, m[1] as string]),
  );
}

/** The variables shared/config.ts's schema declares (its top-level keys). */
function configVariables(): Set<string> {
  const text = readFileSync(join(REPO_ROOT, 'shared', 'config.ts'), 'utf8');
  const schema = text.slice(text.indexOf('const envSchema = z.object({'), text.indexOf('export type Config'));
  return new Set([...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] as string));
}

/** Environment variable names a local assigns (`NAME = …` inside its expression). */
function assignedNames(expression: unknown): string[] {
  return [...String(expression).matchAll(/\b([A-Z][A-Z0-9_]+)\s*=/g)].map((m) => m[1] as string);
}

/** Environment variable names a local holds as values (`key = "NAME"`). */
function quotedNames(expression: unknown): string[] {
  return [...String(expression).matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1] as string);
}

describe('infra/ wiring matches the code', () => {
  let module: TfModule;
  let functions: Record<string, Body>;
  before(async () => {
    module = await loadModule(join(REPO_ROOT, 'infra'));
    functions = module.locals.get('functions') as Record<string, Body>;
  });

  test('every function is registered in functions/index.ts under its name, with its kind', () => {
    const registered = registrations();
    for (const [name, fn] of Object.entries(functions)) {
      const kind = fn.topic === null ? 'http' : 'cloudEvent';
      assert.equal(registered.get(name), kind, `${name} must be registered with ${kind}('${name}', …)`);
    }
  });

  test('every environment variable the module sets is one shared/config.ts reads', () => {
    const known = configVariables();
    assert.ok(known.size >= 15, `only ${known.size} variables found in shared/config.ts`);
    const wired = [
      ...assignedNames(module.locals.get('common_env')),
      ...assignedNames(module.locals.get('routes_env')),
      ...quotedNames(module.locals.get('secrets')),
    ];
    assert.ok(wired.length >= 10, wired.join(', '));
    for (const name of wired)
      assert.ok(known.has(name), `${name} is set by infra/ but not read by shared/config.ts`);
  });

  test('the values the module sets pass the configuration schema', () => {
    const env = {
      WI_STATE: 'firestore',
      GOOGLE_CLOUD_PROJECT: 'acme-prod',
      WI_FIRESTORE_DATABASE: 'wi-sentinel',
      // join(",", local.watched_projects): no spaces.
      WI_PROJECTS: 'acme-prod,acme-staging',
      SLACK_CHANNEL: '#platform-alerts',
      WI_COMMANDS_TOPIC: 'wi-sentinel-commands',
      SLACK_ALLOWED_USERS: 'U0123ABCD,W0456EFGH',
      SLACK_ALLOWED_USERGROUP: 'S0789IJKL',
      WI_ROUTES: '/etc/wi-sentinel/routes.yaml',
      SLACK_BOT_TOKEN: 'xoxb-not-a-real-token',
      SLACK_SIGNING_SECRET: 'not-a-real-signing-secret',
      PAGERDUTY_ROUTING_KEY: 'R0123456789abcdefABCDEF012345678',
    };
    const config = loadConfig(env);
    assert.deepEqual(config.WI_PROJECTS, ['acme-prod', 'acme-staging']);
    assert.equal(config.WI_STATE, 'firestore');
  });

  test('the commands topic is the one wiStatus publishes to by default, and the one wiCommands reads', () => {
    const prefix = blocksOf(module, 'variable').find((v) => v.name === 'name_prefix')?.body.default;
    assert.equal(`${prefix}-commands`, loadConfig({}).WI_COMMANDS_TOPIC);
    assert.match(String(module.locals.get('common_env')), /WI_COMMANDS_TOPIC\s*=\s*local\.topics\.commands/);
    assert.equal(functions.wiCommands?.topic, 'commands');
  });

  test('every topic feeds a registered CloudEvent function', () => {
    const registered = registrations();
    const topics = Object.keys(module.locals.get('topics') as Record<string, string>);
    for (const topic of topics) {
      const consumer = Object.entries(functions).find(([, fn]) => fn.topic === topic)?.[0];
      assert.ok(consumer, `no function is triggered by the ${topic} topic`);
      assert.equal(registered.get(consumer), 'cloudEvent', `${consumer} (fed by ${topic}) is not registered`);
    }
  });

  test('every sink has a filter the code generates', () => {
    for (const name of Object.keys(module.locals.get('sinks') as Record<string, Body>)) {
      assert.ok(SINK_FILTERS[name], `no generated filter for the ${name} sink`);
    }
  });
});
