import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cidrContains,
  type EgressVerdict,
  judgeMetadataEgress,
  METADATA_IP,
  restrictsEgress,
  ruleAllows,
  selectorMatches,
} from '../../../shared/inventory/network-policy.ts';
import {
  type EgressRule,
  type LabelSelector,
  type NetworkPolicy,
  networkPolicySchema,
} from '../../../shared/inventory/network-policy-schema.ts';

type Spec = NetworkPolicy['spec'];

/** A policy as the API returns it, validated by the same schema the snapshot uses. */
function policy(name: string, spec: Spec, namespace: string | null = 'app'): NetworkPolicy {
  const metadata = namespace === null ? { name } : { name, namespace };
  return networkPolicySchema.parse({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata,
    spec,
  });
}

const ALL_PODS = {};
const EGRESS = ['Egress'];
const META_32 = { ipBlock: { cidr: '169.254.169.254/32' } };
const TCP_80_988 = [
  { protocol: 'TCP', port: 80 },
  { protocol: 'TCP', port: 988 },
];
const denyAll = policy('deny-all', { podSelector: ALL_PODS, policyTypes: EGRESS });
const allowMetadata = policy('allow-metadata', {
  podSelector: ALL_PODS,
  policyTypes: EGRESS,
  egress: [{ to: [META_32], ports: TCP_80_988 }],
});
/** Egress-only policy for every pod of `app` with the given rules. */
const egress = (name: string, rules: EgressRule[]) =>
  policy(name, { podSelector: ALL_PODS, policyTypes: EGRESS, egress: rules });

const WEB_POD = { namespace: 'app', labels: { app: 'web', tier: 'front' } };
const UNRESTRICTED: EgressVerdict = { restricted: false, blockedPorts: [], policies: [] };
const blocked = (ports: number[], ...policies: string[]): EgressVerdict => ({
  restricted: true,
  blockedPorts: ports,
  policies,
});

describe('judgeMetadataEgress', () => {
  const cases: {
    name: string;
    policies: NetworkPolicy[];
    pod?: { namespace: string; labels: Record<string, string> };
    want: EgressVerdict;
  }[] = [
    { name: 'no policy: unrestricted', policies: [], want: UNRESTRICTED },
    {
      name: 'an Ingress-only policy does not restrict egress',
      policies: [policy('ingress-only', { podSelector: ALL_PODS, policyTypes: ['Ingress'], ingress: [] })],
      want: UNRESTRICTED,
    },
    {
      name: 'explicit Ingress type: egress rules present are not enforced',
      policies: [
        policy('ingress-typed', {
          podSelector: ALL_PODS,
          policyTypes: ['Ingress'],
          egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
        }),
      ],
      want: UNRESTRICTED,
    },
    {
      name: 'policyTypes omitted, egress rules present: restricts egress',
      policies: [
        policy('implied', { podSelector: ALL_PODS, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] }),
      ],
      want: blocked([80, 988], 'implied'),
    },
    {
      name: 'policyTypes omitted and egress: [] is Ingress only',
      policies: [policy('implied-ingress', { podSelector: ALL_PODS, egress: [] })],
      want: UNRESTRICTED,
    },
    {
      name: 'default deny: Egress type and egress: []',
      policies: [egress('deny-empty', [])],
      want: blocked([80, 988], 'deny-empty'),
    },
    {
      name: 'default deny: Egress type, egress absent',
      policies: [denyAll],
      want: blocked([80, 988], 'deny-all'),
    },
    {
      name: 'Ingress and Egress types with no egress rule: deny',
      policies: [policy('both', { podSelector: ALL_PODS, policyTypes: ['Ingress', 'Egress'] })],
      want: blocked([80, 988], 'both'),
    },
    {
      name: 'additive: one denies, another allows the metadata server',
      policies: [denyAll, allowMetadata],
      want: blocked([], 'deny-all', 'allow-metadata'),
    },
    {
      name: 'additive: the allowing policy selects other pods only',
      policies: [
        denyAll,
        policy('allow-api', {
          podSelector: { matchLabels: { app: 'api' } },
          policyTypes: EGRESS,
          egress: [{ to: [META_32], ports: TCP_80_988 }],
        }),
      ],
      want: blocked([80, 988], 'deny-all'),
    },
    {
      name: 'ports allowed by two rules of two policies',
      policies: [
        egress('allow-80', [{ to: [META_32], ports: [{ protocol: 'TCP', port: 80 }] }]),
        egress('allow-988', [{ to: [META_32], ports: [{ protocol: 'TCP', port: 988 }] }]),
      ],
      want: blocked([], 'allow-80', 'allow-988'),
    },
    {
      name: 'port 988 allowed only towards another destination',
      policies: [
        egress('split', [
          { to: [META_32], ports: [{ protocol: 'TCP', port: 80 }] },
          { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP', port: 988 }] },
        ]),
      ],
      want: blocked([988], 'split'),
    },
    {
      name: 'ipBlock 169.254.169.254/32 on TCP 80 and 988',
      policies: [egress('meta', [{ to: [META_32], ports: TCP_80_988 }])],
      want: blocked([], 'meta'),
    },
    {
      name: 'ipBlock 169.254.0.0/16, all ports',
      policies: [egress('link-local', [{ to: [{ ipBlock: { cidr: '169.254.0.0/16' } }] }])],
      want: blocked([], 'link-local'),
    },
    {
      name: 'ipBlock 0.0.0.0/0 except 169.254.169.254/32',
      policies: [
        egress('world-but-meta', [
          { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }] },
        ]),
      ],
      want: blocked([80, 988], 'world-but-meta'),
    },
    {
      name: 'ipBlock 0.0.0.0/0 except 169.254.0.0/16',
      policies: [
        egress('world-but-link-local', [
          { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '169.254.0.0/16'] } }] },
        ]),
      ],
      want: blocked([80, 988], 'world-but-link-local'),
    },
    {
      name: 'ipBlock 0.0.0.0/0 except a block without the metadata address',
      policies: [
        egress('world-but-rfc1918', [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }]),
      ],
      want: blocked([], 'world-but-rfc1918'),
    },
    {
      name: 'port range 1-1024 covers both ports',
      policies: [egress('range', [{ to: [META_32], ports: [{ protocol: 'TCP', port: 1, endPort: 1024 }] }])],
      want: blocked([], 'range'),
    },
    {
      name: 'port range 900-1000 covers 988 only',
      policies: [
        egress('range', [{ to: [META_32], ports: [{ protocol: 'TCP', port: 900, endPort: 1000 }] }]),
      ],
      want: blocked([80], 'range'),
    },
    {
      name: 'port range ending at 988 is inclusive',
      policies: [egress('range', [{ to: [META_32], ports: [{ port: 80, endPort: 988 }] }])],
      want: blocked([], 'range'),
    },
    {
      name: 'port 80 allowed but not 988',
      policies: [egress('http-only', [{ to: [META_32], ports: [{ protocol: 'TCP', port: 80 }] }])],
      want: blocked([988], 'http-only'),
    },
    {
      name: 'named ports name pod ports, never the metadata server',
      policies: [
        egress('named', [
          {
            to: [META_32],
            ports: [
              { protocol: 'TCP', port: 'http' },
              { protocol: 'TCP', port: 'metadata' },
            ],
          },
        ]),
      ],
      want: blocked([80, 988], 'named'),
    },
    {
      name: 'UDP only',
      policies: [
        egress('udp', [
          {
            to: [META_32],
            ports: [
              { protocol: 'UDP', port: 80 },
              { protocol: 'UDP', port: 988 },
            ],
          },
        ]),
      ],
      want: blocked([80, 988], 'udp'),
    },
    {
      name: 'protocol omitted means TCP',
      policies: [egress('default-proto', [{ to: [META_32], ports: [{ port: 80 }, { port: 988 }] }])],
      want: blocked([], 'default-proto'),
    },
    {
      name: 'a TCP entry with no port allows every TCP port',
      policies: [egress('all-tcp', [{ to: [META_32], ports: [{ protocol: 'TCP' }] }])],
      want: blocked([], 'all-tcp'),
    },
    {
      name: 'empty `to` allows every destination',
      policies: [egress('any-dest', [{ to: [], ports: TCP_80_988 }])],
      want: blocked([], 'any-dest'),
    },
    {
      name: 'absent `to` allows every destination',
      policies: [egress('any-dest', [{ ports: TCP_80_988 }])],
      want: blocked([], 'any-dest'),
    },
    {
      name: 'empty `ports` allows every port',
      policies: [egress('any-port', [{ to: [META_32], ports: [] }])],
      want: blocked([], 'any-port'),
    },
    {
      name: 'an empty rule allows everything',
      policies: [egress('allow-all', [{}])],
      want: blocked([], 'allow-all'),
    },
    {
      name: 'podSelector and namespaceSelector peers never match the metadata address',
      policies: [
        egress('selectors', [
          {
            to: [{ podSelector: {} }, { namespaceSelector: {} }, { namespaceSelector: {}, podSelector: {} }],
          },
        ]),
      ],
      want: blocked([80, 988], 'selectors'),
    },
    {
      name: 'a policy whose podSelector misses the pod does not restrict it',
      policies: [policy('api-deny', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: EGRESS })],
      want: UNRESTRICTED,
    },
    {
      name: 'matchExpressions select the pod',
      policies: [
        policy('front-deny', {
          podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] },
          policyTypes: EGRESS,
        }),
      ],
      want: blocked([80, 988], 'front-deny'),
    },
    {
      name: 'a policy of another namespace does not apply',
      policies: [policy('deny-all', { podSelector: ALL_PODS, policyTypes: EGRESS }, 'other')],
      want: UNRESTRICTED,
    },
    {
      name: 'a policy without a namespace is read as the pod namespace',
      policies: [policy('deny-all', { podSelector: ALL_PODS, policyTypes: EGRESS }, null)],
      want: blocked([80, 988], 'deny-all'),
    },
    {
      name: 'only selecting policies are named',
      policies: [
        denyAll,
        policy('api-deny', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: EGRESS }),
      ],
      want: blocked([80, 988], 'deny-all'),
    },
    {
      name: 'IPv6 blocks never hold the IPv4 metadata address',
      policies: [
        egress('v6', [{ to: [{ ipBlock: { cidr: '::/0' } }, { ipBlock: { cidr: 'fd00:ec2::254/128' } }] }]),
      ],
      want: blocked([80, 988], 'v6'),
    },
    {
      name: 'malformed blocks allow nothing',
      policies: [
        egress('malformed', [
          {
            to: [
              { ipBlock: { cidr: '169.254.169.254/33' } },
              { ipBlock: { cidr: '169.254.169.254/' } },
              { ipBlock: { cidr: '169.254.0.0/0x10' } },
              { ipBlock: { cidr: '169.254.169/24' } },
              { ipBlock: { cidr: 'metadata.google.internal/32' } },
            ],
          },
        ]),
      ],
      want: blocked([80, 988], 'malformed'),
    },
  ];

  for (const { name, policies, pod = WEB_POD, want } of cases) {
    test(name, () => assert.deepEqual(judgeMetadataEgress(policies, pod), want));
  }
});

describe('restrictsEgress', () => {
  const cases: [string, Spec, boolean][] = [
    ['Egress type', { policyTypes: ['Egress'] }, true],
    ['Ingress type with egress rules', { policyTypes: ['Ingress'], egress: [{}] }, false],
    ['types omitted, egress rules', { egress: [{}] }, true],
    ['types omitted, no egress rules', { egress: [] }, false],
    ['types empty, egress rules', { policyTypes: [], egress: [{}] }, true],
    ['types null, egress null', { policyTypes: null, egress: null }, false],
  ];
  for (const [name, spec, want] of cases) {
    test(name, () => assert.equal(restrictsEgress(policy('p', spec)), want));
  }
});

describe('selectorMatches', () => {
  const labels = { app: 'web', tier: 'front', empty: '' };
  const cases: [string, LabelSelector | null | undefined, boolean][] = [
    ['undefined selects everything', undefined, true],
    ['null selects everything', null, true],
    ['{} selects everything', {}, true],
    ['null fields select everything', { matchLabels: null, matchExpressions: null }, true],
    ['matchLabels equal', { matchLabels: { app: 'web' } }, true],
    ['matchLabels all of them', { matchLabels: { app: 'web', tier: 'front' } }, true],
    ['matchLabels other value', { matchLabels: { app: 'api' } }, false],
    ['matchLabels missing key', { matchLabels: { team: 'a' } }, false],
    [
      'In: value listed',
      { matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }] },
      true,
    ],
    ['In: value not listed', { matchExpressions: [{ key: 'app', operator: 'In', values: ['api'] }] }, false],
    ['In: key missing', { matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] }, false],
    [
      'NotIn: value listed',
      { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] },
      false,
    ],
    [
      'NotIn: value not listed',
      { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['api'] }] },
      true,
    ],
    ['NotIn: key missing', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists: present', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [
      'Exists: present with an empty value',
      { matchExpressions: [{ key: 'empty', operator: 'Exists' }] },
      true,
    ],
    ['Exists: missing', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, false],
    ['DoesNotExist: present', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    ['DoesNotExist: missing', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, true],
    [
      'labels and expressions must all hold',
      {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['front'] },
          { key: 'team', operator: 'DoesNotExist' },
        ],
      },
      true,
    ],
    [
      'one failing expression fails the selector',
      {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['front'] },
          { key: 'app', operator: 'NotIn', values: ['web'] },
        ],
      },
      false,
    ],
  ];
  for (const [name, selector, want] of cases) {
    test(name, () => assert.equal(selectorMatches(selector, labels), want));
  }
  test('inherited object keys are not labels', () => {
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {}), false);
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: 'constructor', operator: 'DoesNotExist' }] }, {}),
      true,
    );
  });
});

describe('cidrContains', () => {
  const cases: [string, boolean][] = [
    ['169.254.169.254/32', true],
    ['169.254.169.254', true],
    ['169.254.169.0/24', true],
    ['169.254.0.0/16', true],
    ['128.0.0.0/1', true],
    ['0.0.0.0/0', true],
    ['169.254.169.255/32', false],
    ['169.254.169.252/31', false],
    ['169.254.169.252/30', true],
    ['0.0.0.0/1', false],
    ['10.0.0.0/8', false],
    ['169.254.169.254/33', false],
    ['169.254.169.254/-1', false],
    ['169.254.169.254/', false],
    ['169.254.0.0/0x10', false],
    ['169.254.0.0/ 16', false],
    ['169.254.0.0/16/8', false],
    ['169.254.169/24', false],
    ['169.254.169.256/32', false],
    ['169.254.169.254.0/32', false],
    ['::/0', false],
    ['fe80::/10', false],
    ['::ffff:169.254.169.254/128', false],
    ['', false],
    ['metadata', false],
  ];
  for (const [cidr, want] of cases) {
    test(`${cidr || '(empty)'} ${want ? 'holds' : 'does not hold'} ${METADATA_IP}`, () =>
      assert.equal(cidrContains(cidr, METADATA_IP), want));
  }
  test('a malformed address is held by nothing', () => {
    assert.equal(cidrContains('0.0.0.0/0', '169.254.169'), false);
    assert.equal(cidrContains('0.0.0.0/0', 'fd00:ec2::254'), false);
  });
});

describe('ruleAllows', () => {
  const cases: [string, EgressRule, number, boolean][] = [
    ['empty rule, port 988', {}, 988, true],
    ['null to and ports', { to: null, ports: null }, 80, true],
    ['metadata /32 on 988, asked 988', { to: [META_32], ports: [{ protocol: 'TCP', port: 988 }] }, 988, true],
    ['metadata /32 on 988, asked 80', { to: [META_32], ports: [{ protocol: 'TCP', port: 988 }] }, 80, false],
    ['range 80-988 lower edge', { ports: [{ port: 80, endPort: 988 }] }, 80, true],
    ['range 80-988 inside', { ports: [{ port: 80, endPort: 988 }] }, 443, true],
    ['range 80-988 above', { ports: [{ port: 80, endPort: 988 }] }, 989, false],
    ['range 81-988 below', { ports: [{ port: 81, endPort: 988 }] }, 80, false],
    ['null endPort is a single port', { ports: [{ port: 988, endPort: null }] }, 988, true],
    ['null port allows all', { ports: [{ protocol: 'TCP', port: null }] }, 988, true],
    ['SCTP', { ports: [{ protocol: 'SCTP', port: 988 }] }, 988, false],
    ['named port', { ports: [{ port: 'gke-metadata' }] }, 988, false],
    ['except null', { to: [{ ipBlock: { cidr: '169.254.0.0/16', except: null } }] }, 80, true],
    [
      'except holds the address',
      { to: [{ ipBlock: { cidr: '169.254.0.0/16', except: [`${METADATA_IP}/32`] } }] },
      80,
      false,
    ],
    [
      'one of several peers allows',
      { to: [{ podSelector: { matchLabels: { app: 'dns' } } }, { ipBlock: { cidr: '169.254.169.254/32' } }] },
      80,
      true,
    ],
    ['only pod peers', { to: [{ podSelector: {} }] }, 80, false],
  ];
  for (const [name, rule, port, want] of cases) {
    test(name, () => assert.equal(ruleAllows(rule, METADATA_IP, port), want));
  }
});
