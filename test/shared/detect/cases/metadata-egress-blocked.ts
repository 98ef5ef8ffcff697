import { clusterOf, loadSnapshot, ORBIT, variant } from '../../../support/snapshots.ts';
import type { DetectorCase, Expected } from './case.ts';
import { ALLOW_METADATA, DENY_EGRESS, networkPolicy, policyObject } from './events.ts';

const snapshot = loadSnapshot();
const kind = 'metadata-egress-blocked';
const FP = 'metadata-egress-blocked/orbit-prod/europe-west4/core-1/checkout';
const COMMANDS = [
  /^gcloud container clusters get-credentials core-1 --location europe-west4 --project orbit-prod$/,
  /^kubectl apply -f - <<'EOF'\n.*namespace: checkout\n.*cidr: 169\.254\.169\.254\/32\n.*port: 80\n.*port: 988\nEOF$/s,
];

/** checkout already has a default deny: pricing is cut off, cart still served by web-egress. */
const checkoutDenied = variant((s) => {
  clusterOf(s, 'core-1').networkPolicies.push(policyObject('checkout', 'deny-all', DENY_EGRESS));
});

/** web-egress narrowed to ports 1-100: 988 is no longer allowed. */
const NARROW_WEB_EGRESS = {
  podSelector: { matchLabels: { tier: 'web' } },
  policyTypes: ['Egress'],
  egress: [
    {
      to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }],
      ports: [{ protocol: 'TCP', port: 1, endPort: 100 }],
    },
  ],
};

const pricingBlocked: Expected = {
  status: 'firing',
  severity: 'critical',
  fingerprint: FP,
  cluster: ORBIT.core,
  ksas: ['checkout/pricing'],
  workloads: ['core-1 checkout StatefulSet/pricing @highmem ×1'],
  summary:
    /^NetworkPolicy checkout\/deny-all \(created by alice@example\.com\) blocks egress to the GKE metadata server: WI pods in checkout get no token \(1 KSA, 1 pod in 1 cluster\)$/,
  commands: COMMANDS,
};

const resolved = (summary: RegExp): Expected => ({
  status: 'resolved',
  severity: 'critical',
  fingerprint: FP,
  cluster: ORBIT.core,
  ksas: [],
  summary,
});

export const CASES: DetectorCase[] = [
  {
    name: 'a default deny, judged with web-egress (additive): only the pods it leaves unserved',
    kind,
    snapshot,
    event: networkPolicy('create', 'checkout', 'deny-all', DENY_EGRESS),
    want: [pricingBlocked],
  },
  {
    name: 'web-egress narrowed below port 988: the pods it selects',
    kind,
    snapshot,
    event: networkPolicy('patch', 'checkout', 'web-egress', NARROW_WEB_EGRESS),
    want: [
      {
        ...pricingBlocked,
        ksas: ['checkout/cart'],
        workloads: [
          'core-1 checkout Deployment/cart @general ×1',
          'core-1 checkout Deployment/cart @spot ×1',
        ],
        summary:
          /^NetworkPolicy checkout\/web-egress \(patched by alice@example\.com\) blocks .*\(1 KSA, 2 pods in 1 cluster\)$/,
      },
    ],
  },
  {
    name: 'a default deny, no inventory: the policy judged alone',
    kind,
    event: networkPolicy('create', 'checkout', 'deny-all', DENY_EGRESS),
    want: [
      {
        ...pricingBlocked,
        ksas: [],
        workloads: undefined,
        summary:
          /^NetworkPolicy checkout\/deny-all \(created by alice@example\.com\) blocks .* get no token$/,
      },
    ],
  },
  {
    name: 'a deny for some pods only, no inventory: judged for the pods it selects',
    kind,
    event: networkPolicy('create', 'checkout', 'web-deny', {
      podSelector: { matchLabels: { tier: 'web' } },
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
    }),
    want: [{ ...pricingBlocked, ksas: [], workloads: undefined, summary: /checkout\/web-deny/ }],
  },
  {
    name: 'a later policy allows the metadata server: resolved',
    kind,
    snapshot: checkoutDenied,
    event: networkPolicy('create', 'checkout', 'allow-metadata', ALLOW_METADATA),
    want: [
      resolved(
        /^pods in checkout reach the GKE metadata server again \(NetworkPolicy allow-metadata created by alice@example\.com\)$/,
      ),
    ],
  },
  {
    name: 'the blocking policy deleted: resolved',
    kind,
    snapshot: checkoutDenied,
    event: networkPolicy('delete', 'checkout', 'deny-all'),
    want: [resolved(/\(NetworkPolicy deny-all deleted by alice@example\.com\)$/)],
  },
  {
    name: 'another change while still blocked fires again under the same fingerprint',
    kind,
    snapshot: checkoutDenied,
    event: networkPolicy('create', 'checkout', 'allow-dns', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }],
    }),
    want: [
      {
        ...pricingBlocked,
        summary:
          /^NetworkPolicy checkout\/deny-all, checkout\/allow-dns \(created by alice@example\.com\) blocks /,
      },
    ],
  },
  {
    name: 'deleted, no inventory: resolved',
    kind,
    event: networkPolicy('delete', 'checkout', 'deny-all'),
    want: [resolved(/\(NetworkPolicy deny-all deleted by alice@example\.com\)$/)],
  },
  {
    name: 'updated to allow the metadata server, no inventory: resolved',
    kind,
    event: networkPolicy('update', 'checkout', 'deny-all', ALLOW_METADATA),
    want: [resolved(/\(NetworkPolicy deny-all updated by alice@example\.com\)$/)],
  },
  {
    name: 'a policy that allows the metadata server',
    kind,
    snapshot,
    event: networkPolicy('create', 'checkout', 'allow-metadata', ALLOW_METADATA),
    want: [],
  },
  {
    name: 'an Ingress-only policy',
    kind,
    snapshot,
    event: networkPolicy('create', 'checkout', 'ingress', { podSelector: {}, policyTypes: ['Ingress'] }),
    want: [],
  },
  {
    name: 'a deny selecting no WI pod',
    kind,
    snapshot,
    event: networkPolicy('create', 'checkout', 'toolbox-deny', {
      podSelector: { matchLabels: { app: 'toolbox' } },
      policyTypes: ['Egress'],
    }),
    want: [],
  },
  {
    name: 'a deny in a cluster without WI',
    kind,
    snapshot,
    event: networkPolicy('create', 'default', 'deny-all', DENY_EGRESS, ORBIT.sandbox),
    want: [],
  },
  {
    name: 'a namespace no WI pod runs in',
    kind,
    snapshot,
    event: networkPolicy('create', 'tools', 'deny-all', DENY_EGRESS),
    want: [],
  },
  {
    name: 'a change in another namespace while checkout is blocked',
    kind,
    snapshot: checkoutDenied,
    event: networkPolicy('create', 'search', 'allow-metadata', ALLOW_METADATA),
    want: [],
  },
  {
    name: 'a new policy allowing the metadata server, no inventory',
    kind,
    event: networkPolicy('create', 'checkout', 'allow-metadata', ALLOW_METADATA),
    want: [],
  },
  {
    name: "scan: the namespace's policies judged together cut a WI pod off",
    kind,
    snapshot: checkoutDenied,
    want: [
      {
        ...pricingBlocked,
        summary:
          /^NetworkPolicy checkout\/deny-all in core-1 blocks egress to the GKE metadata server \(found by the sweep\): WI pods in checkout get no token \(1 KSA, 1 pod in 1 cluster\)$/,
      },
    ],
  },
  {
    name: 'scan: several policies, each selecting the pods it cuts off, named together',
    kind,
    snapshot: variant((s) => {
      const core = clusterOf(s, 'core-1');
      core.networkPolicies.push(policyObject('checkout', 'deny-all', DENY_EGRESS));
      const web = core.networkPolicies.find((p) => p.metadata.name === 'web-egress');
      if (web) web.spec = NARROW_WEB_EGRESS;
    }),
    want: [
      {
        ...pricingBlocked,
        ksas: ['checkout/cart', 'checkout/pricing'],
        workloads: [
          'core-1 checkout Deployment/cart @general ×1',
          'core-1 checkout Deployment/cart @spot ×1',
          'core-1 checkout StatefulSet/pricing @highmem ×1',
        ],
        summary:
          /^NetworkPolicy checkout\/web-egress, checkout\/deny-all in core-1 block egress .* \(2 KSAs, 3 pods in 1 cluster\)$/,
      },
    ],
  },
  {
    name: 'scan: a default deny with the metadata server allowed; a deny where no WI pod runs',
    kind,
    snapshot: variant((s) => {
      const core = clusterOf(s, 'core-1');
      core.networkPolicies.push(policyObject('checkout', 'deny-all', DENY_EGRESS));
      core.networkPolicies.push(policyObject('checkout', 'allow-metadata', ALLOW_METADATA));
      clusterOf(s, 'sandbox').networkPolicies.push(policyObject('default', 'deny-all', DENY_EGRESS));
    }),
    want: [],
  },
];
