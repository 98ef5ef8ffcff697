// The dependency rule of README "How it works", enforced by `npm run lint` (dependency-cruiser).
// Floors, from the ground up: a file imports only from its own floor or below; the entries
// (functions/, cli/) import anything. Every file under shared/ sits on exactly one floor.
// test/lint/dependency-rule.test.ts plants a violation of each rule in a copy of the tree.

// Each floor: its name in lint's messages, and the paths on it.
const FLOORS = [
  // The vocabulary (refs, Finding, Incident, symptom groups), errors, the log line, the environment.
  ['domain, config, errors, log', '^shared/domain/', '^shared/(errors|log|config)[.]ts$'],
  // Decoding and classifying log entries and notifications; the Snapshot model and impact.
  ['events, inventory', '^shared/(events|inventory)/'],
  // The seven links of one KSA judged from facts.
  ['chain', '^shared/chain/'],
  // Detectors, renderers (pure), and the adapters beside them.
  [
    'detect, renderers, gcp, pipeline',
    '^shared/(detect|gcp|status)/',
    '^shared/notify/([^/]+-render|links)[.]ts$',
    '^shared/pipeline[.]ts$',
  ],
  // What runs over the ports; incidents and their stores; the senders.
  ['live, incidents, notify senders', '^shared/(live|incidents|notify)/'],
  // The subsystems joined: the event and symptom paths, the sweep, the slash command.
  [
    'alerting, symptoms, reconcile, slack, wiring',
    '^shared/(alerting|symptoms|reconcile|slack)/',
    '^shared/wiring[.]ts$',
  ],
  // The entries.
  ['functions, cli', '^(functions|cli)/'],
];

const any = (patterns) => patterns.join('|');
const nameOf = (n) => FLOORS[n][0];
const pathsOf = (floors) => floors.flatMap(([, ...paths]) => paths);
// A file is on the lowest floor whose pattern it matches (notify/'s renderers: 3, its senders: 4).
const atOrBelow = (n) => any(pathsOf(FLOORS.slice(0, n + 1)));
const on = (n) => ({ path: any(pathsOf([FLOORS[n]])), ...(n > 0 ? { pathNot: atOrBelow(n - 1) } : {}) });
const above = (n) => ({ path: any(pathsOf(FLOORS.slice(n + 1))), pathNot: atOrBelow(n) });
const ALL_FLOORS = any(pathsOf(FLOORS));

// The pure core: floors 0 to 3 but the adapters.
const PURE_CORE = any(pathsOf(FLOORS.slice(0, 4)));
const ADAPTERS = '^shared/gcp/';

// Resolved paths: `node_modules/…`, or further up when node_modules is a link (the lint test's copy).
const CLIENT_LIBRARIES =
  '(^|/)node_modules/(@google-cloud/|@slack/|@kubernetes/|google-auth-library/|googleapis/|gaxios/|google-gax/)';
const IO_MODULES =
  '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|dgram|dns|dns/promises|tls|cluster|worker_threads|readline|readline/promises|inspector|repl|os|process)$';

const floorRules = FLOORS.slice(0, 6).map((_, n) => ({
  name: `floor-${n}`,
  comment: `a file on floor ${n} (${nameOf(n)}) imports only from floor ${n} or below (README "How it works")`,
  severity: 'error',
  from: on(n),
  to: above(n),
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'modules import each other in a circle: break it by moving the shared part down a floor',
      severity: 'error',
      from: { path: '^(shared|functions|cli)/' },
      to: { circular: true },
    },
    {
      name: 'pure-core-no-client-library',
      comment:
        'the pure core (domain, events, inventory, chain, detect, renderers) imports no Google, Slack or Kubernetes client library: those live behind the ports in shared/gcp/',
      severity: 'error',
      from: { path: PURE_CORE, pathNot: ADAPTERS },
      to: { path: CLIENT_LIBRARIES },
    },
    {
      name: 'pure-core-no-io',
      comment:
        'the pure core (domain, events, inventory, chain, detect, renderers) imports no I/O module (files, network, processes, the environment): take the data or a port as an argument',
      severity: 'error',
      from: { path: PURE_CORE, pathNot: ADAPTERS },
      to: { dependencyTypes: ['core'], path: IO_MODULES },
    },
    {
      name: 'gcp-adapters-only',
      comment:
        'shared/gcp/ holds ports and adapters, no judgement: it imports no incidents, notify or detect',
      severity: 'error',
      from: { path: ADAPTERS },
      to: { path: '^shared/(incidents|notify|detect)/' },
    },
    {
      name: 'shared-not-entries',
      comment:
        'nothing in shared/ imports the entries (functions/, cli/): they wire shared/, not the other way',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(functions|cli)/' },
    },
    ...floorRules,
    {
      name: 'floor-unassigned',
      comment:
        'every file under shared/ sits on a floor: add its folder to FLOORS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^shared/', pathNot: ALL_FLOORS },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // TypeScript 7 has no compiler API yet for dependency-cruiser; swc parses the sources, type-only
    // imports included.
    parser: 'swc',
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
