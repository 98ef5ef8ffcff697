import type { EgressRule, LabelSelector, NetworkPolicy, NetworkPolicyPort } from './network-policy-schema.ts';

/**
 * Can a pod reach the GKE metadata server through the NetworkPolicies of its namespace?
 *
 * Kubernetes semantics: policies are additive allow-lists. A pod selected by no policy with an
 * Egress type is unrestricted; once any such policy selects it, only traffic that some rule of some
 * selecting policy allows gets out. A rule with no `to` allows every destination, no `ports` every
 * port; pod and namespace selectors match pods, never the link-local metadata address, so only an
 * ipBlock (minus its `except`) can allow it. https://kubernetes.io/docs/concepts/services-networking/network-policies/
 */
export const METADATA_IP = '169.254.169.254';
export const METADATA_PORTS = [80, 988] as const;

export interface EgressVerdict {
  /** Some policy restricts the pod's egress. */
  restricted: boolean;
  /** Metadata-server ports no rule allows (empty: reachable). */
  blockedPorts: number[];
  /** Names of the policies that restrict the pod. */
  policies: string[];
}

export function selectorMatches(
  selector: LabelSelector | null | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    const value = labels[key];
    switch (operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** Whether the policy governs egress: an explicit Egress type, or (types omitted) any egress rules. */
export function restrictsEgress(policy: NetworkPolicy): boolean {
  const types = policy.spec.policyTypes;
  if (types && types.length > 0) return types.includes('Egress');
  return (policy.spec.egress?.length ?? 0) > 0;
}

export function judgeMetadataEgress(
  policies: readonly NetworkPolicy[],
  pod: { namespace: string; labels: Record<string, string> },
): EgressVerdict {
  const selecting = policies.filter(
    (policy) =>
      (policy.metadata.namespace ?? pod.namespace) === pod.namespace &&
      restrictsEgress(policy) &&
      selectorMatches(policy.spec.podSelector, pod.labels),
  );
  if (selecting.length === 0) return { restricted: false, blockedPorts: [], policies: [] };
  const rules = selecting.flatMap((policy) => policy.spec.egress ?? []);
  const blockedPorts = METADATA_PORTS.filter(
    (port) => !rules.some((rule) => ruleAllows(rule, METADATA_IP, port)),
  );
  return { restricted: true, blockedPorts, policies: selecting.map((policy) => policy.metadata.name) };
}

export function ruleAllows(rule: EgressRule, ip: string, port: number): boolean {
  const to = rule.to ?? [];
  const destinationAllowed =
    to.length === 0 ||
    to.some((peer) => {
      if (!peer.ipBlock) return false;
      if (!cidrContains(peer.ipBlock.cidr, ip)) return false;
      return !(peer.ipBlock.except ?? []).some((except) => cidrContains(except, ip));
    });
  if (!destinationAllowed) return false;
  const ports = rule.ports ?? [];
  return ports.length === 0 || ports.some((entry) => portAllows(entry, port));
}

function portAllows(entry: NetworkPolicyPort, port: number): boolean {
  if ((entry.protocol ?? 'TCP') !== 'TCP') return false;
  if (entry.port === undefined || entry.port === null) return true;
  // A named port names a container port of the destination pod; the metadata server is no pod.
  if (typeof entry.port === 'string')
    return /^\d+$/.test(entry.port) && rangeAllows(Number(entry.port), entry.endPort, port);
  return rangeAllows(entry.port, entry.endPort, port);
}

function rangeAllows(start: number, end: number | null | undefined, port: number): boolean {
  return end === undefined || end === null ? port === start : port >= start && port <= end;
}

/** IPv4 CIDR containment; an IPv6 or malformed block never contains the IPv4 metadata address. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base = '', bitsText, ...rest] = cidr.split('/');
  // Number() reads '' as 0 and '0x10' as 16: check the prefix text itself, or `a.b.c.d/` would match all.
  if (rest.length > 0 || (bitsText !== undefined && !/^\d{1,2}$/.test(bitsText))) return false;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const network = ipv4(base);
  const address = ipv4(ip);
  if (network === undefined || address === undefined || bits > 32) return false;
  if (bits === 0) return true;
  const mask = (~0 << (32 - bits)) >>> 0;
  return (network & mask) >>> 0 === (address & mask) >>> 0;
}

/** A dotted IPv4 address as a number: four parts of one to three digits, each at most 255. */
function ipv4(text: string): number | undefined {
  // Read by character codes: called for every rule of every pod a sweep judges (no split, no regex).
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i += 1) {
    const code = i === text.length ? DOT : text.charCodeAt(i);
    if (code === DOT) {
      if (digits === 0 || octet > 255) return undefined;
      value = value * 256 + octet;
      parts += 1;
      octet = 0;
      digits = 0;
    } else if (code >= ZERO && code <= NINE && digits < 3) {
      octet = octet * 10 + (code - ZERO);
      digits += 1;
    } else return undefined;
  }
  return parts === 4 ? value : undefined;
}

const DOT = 46;
const ZERO = 48;
const NINE = 57;
