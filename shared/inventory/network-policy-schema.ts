import { z } from 'zod';

/**
 * Kubernetes networking.k8s.io/v1 NetworkPolicy, as the API server returns it (and as the GKE
 * Kubernetes audit log records it). Only the fields that decide egress are typed; the rest pass through.
 */
const labelSelectorRequirement = z.looseObject({
  key: z.string(),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
});

export const labelSelectorSchema = z.looseObject({
  matchLabels: z.record(z.string(), z.string()).nullish(),
  matchExpressions: z.array(labelSelectorRequirement).nullish(),
});

const peerSchema = z.looseObject({
  podSelector: labelSelectorSchema.nullish(),
  namespaceSelector: labelSelectorSchema.nullish(),
  ipBlock: z.looseObject({ cidr: z.string(), except: z.array(z.string()).nullish() }).nullish(),
});

const portSchema = z.looseObject({
  protocol: z.string().nullish(),
  port: z.union([z.number(), z.string()]).nullish(),
  endPort: z.number().nullish(),
});

const ruleSchema = z.looseObject({
  to: z.array(peerSchema).nullish(),
  ports: z.array(portSchema).nullish(),
});

export const networkPolicySchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string().optional(),
  }),
  spec: z.looseObject({
    podSelector: labelSelectorSchema.nullish(),
    policyTypes: z.array(z.string()).nullish(),
    egress: z.array(ruleSchema).nullish(),
    ingress: z.array(z.unknown()).nullish(),
  }),
});

export type LabelSelector = z.infer<typeof labelSelectorSchema>;
export type NetworkPolicy = z.infer<typeof networkPolicySchema>;
export type EgressRule = z.infer<typeof ruleSchema>;
export type NetworkPolicyPeer = z.infer<typeof peerSchema>;
export type NetworkPolicyPort = z.infer<typeof portSchema>;
