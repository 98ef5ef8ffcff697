import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileFilter, FilterSyntaxError, parseFilter } from './logging-filter.ts';

// The evaluator the sink-filter tests run entries through: each rule of the query language it
// implements, checked on its own.
const entry = {
  logName: 'projects/p/logs/cloudaudit.googleapis.com%2Factivity',
  severity: 'NOTICE',
  resource: { type: 'gke_cluster', labels: { project_id: 'p', 'k8s-pod/app': 'api' } },
  labels: { 'compute.googleapis.com/zone': 'us-east1-b' },
  protoPayload: {
    methodName: 'google.iam.admin.v1.SetIAMPolicy',
    status: { code: 0 },
    authorizationInfo: [{ permission: 'iam.serviceAccounts.setIamPolicy' }, { permission: 'other.get' }],
  },
};
const passes = (filter: string) => compileFilter(filter)(entry);

describe('logging filter evaluator', () => {
  test('= compares whole strings, ignoring case', () => {
    assert.equal(passes('protoPayload.methodName="google.iam.admin.v1.setiampolicy"'), true);
    assert.equal(passes('protoPayload.methodName="google.iam.admin.v1.SetIAM"'), false);
    assert.equal(passes('resource.type=gke_cluster'), true);
  });

  test(': is a substring match, ignoring case; :* tells whether the field exists', () => {
    assert.equal(passes('logName:"CLOUDAUDIT.googleapis.com%2Factivity"'), true);
    assert.equal(passes('logName:"data_access"'), false);
    assert.equal(passes('protoPayload.status:*'), true);
    assert.equal(passes('protoPayload.response:*'), false);
  });

  test('=~ is an unanchored regular expression that respects case; !~ its negation', () => {
    assert.equal(passes('protoPayload.methodName=~"SetIAMPolicy$"'), true);
    assert.equal(passes('protoPayload.methodName=~"setiampolicy$"'), false);
    assert.equal(passes('protoPayload.methodName=~"^google\\.iam\\.admin"'), true);
    assert.equal(passes('protoPayload.methodName!~"^io\\.k8s"'), true);
  });

  test('numbers compare as their text; != holds for a missing field', () => {
    assert.equal(passes('protoPayload.status.code=0'), true);
    assert.equal(passes('protoPayload.status.code!=0'), false);
    assert.equal(passes('protoPayload.missing!="x"'), true);
    assert.equal(passes('protoPayload.missing="x"'), false);
  });

  test('a repeated field matches when any element does', () => {
    assert.equal(passes('protoPayload.authorizationInfo.permission="other.get"'), true);
    assert.equal(passes('protoPayload.authorizationInfo.permission="other.list"'), false);
  });

  test('quoted path segments name keys holding dots and slashes', () => {
    assert.equal(passes('resource.labels."k8s-pod/app"="api"'), true);
    assert.equal(passes('labels."compute.googleapis.com/zone"="us-east1-b"'), true);
    assert.equal(passes('labels.compute="us-east1-b"'), false);
  });

  test('a value list matches any of its values with OR, all with AND', () => {
    assert.equal(passes('resource.type=("gce_instance" OR "gke_cluster")'), true);
    assert.equal(passes('resource.type=("gce_instance" OR "k8s_cluster")'), false);
    assert.equal(passes('protoPayload.methodName:("iam" AND "policy")'), true);
    assert.equal(passes('protoPayload.methodName:("iam" AND "k8s")'), false);
  });

  test('NOT binds tightest, then OR, then AND; juxtaposition is AND', () => {
    // The documented example: a OR NOT b AND NOT c OR d  ==  (a OR (NOT b)) AND ((NOT c) OR d).
    const t = 'severity="NOTICE"';
    const f = 'severity="ERROR"';
    assert.equal(passes(`${f} OR NOT ${f} AND NOT ${t} OR ${t}`), true);
    assert.equal(passes(`${f} OR ${t} AND ${f}`), false, 'OR binds tighter than AND');
    assert.equal(passes(`(${f} OR ${t}) AND ${f}`), false);
    assert.equal(passes(`${f} OR (${t} AND ${t})`), true);
    assert.equal(passes(`${t} ${f}`), false, 'juxtaposition is AND');
    assert.equal(passes(`${t} ${t}`), true);
    assert.equal(passes(`NOT NOT ${t}`), true);
  });

  test('severity orders by level, named or numbered; an entry without one is DEFAULT', () => {
    assert.equal(passes('severity>=NOTICE'), true);
    assert.equal(passes('severity>="notice"'), true, 'names ignore case');
    assert.equal(passes('severity>=ERROR'), false);
    assert.equal(passes('severity>INFO'), true);
    assert.equal(passes('severity<WARNING'), true);
    assert.equal(passes('severity<=300'), true);
    assert.equal(passes('severity<300'), false);
    const check = compileFilter('severity>=ERROR');
    assert.equal(check({ severity: 'CRITICAL' }), true);
    assert.equal(check({ severity: 500 }), true, 'a numeric severity');
    assert.equal(check({ severity: 'WARNING' }), false);
    assert.equal(check({}), false, 'no severity is DEFAULT');
    assert.equal(compileFilter('severity<=DEFAULT')({}), true);
  });

  test('other fields order as numbers or timestamps; what is neither is unordered (false)', () => {
    assert.equal(passes('protoPayload.status.code>=0'), true);
    assert.equal(passes('protoPayload.status.code>0'), false);
    const check = compileFilter('timestamp>="2026-11-28T10:00:00Z"');
    assert.equal(check({ timestamp: '2026-11-28T10:00:00.5Z' }), true);
    assert.equal(check({ timestamp: '2026-11-28T11:00:00+02:00' }), false, 'an instant, not text');
    assert.equal(check({}), false);
    assert.equal(passes('resource.type>"a"'), false, 'text is not ordered');
  });

  test('string escapes: \\" and \\\\ in values', () => {
    const check = compileFilter('jsonPayload.message="say \\"hi\\" \\\\ bye"');
    assert.equal(check({ jsonPayload: { message: 'say "hi" \\ bye' } }), true);
  });

  test('refuses what it does not implement, naming the position', () => {
    assert.throws(() => parseFilter('"free text"'), FilterSyntaxError);
    assert.throws(() => parseFilter('severity>=>"ERROR"'), /expected a value at 10/);
    assert.throws(
      () => parseFilter('sample(insertId, 0.1)'),
      /global restriction "sample" at 0 is not supported/,
      'functions are refused',
    );
    assert.throws(() => parseFilter('severity'), /global restriction "severity" at 0 is not supported/);
    assert.throws(() => parseFilter('logName:"abc'), /unterminated string at 8/);
    assert.throws(() => parseFilter('(severity="ERROR"'), /expected \) at the end/);
    assert.throws(() => parseFilter('severity="ERROR")'), /unexpected .* at 16/);
    assert.throws(() => parseFilter('severity=("A" OR "B" AND "C")'), /mixed AND and OR/);
    assert.throws(() => parseFilter('severity="A" AND'), /unexpected end of filter/);
  });
});
