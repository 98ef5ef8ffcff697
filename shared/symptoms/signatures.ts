/**
 * The credential-failure signatures: what Google's client libraries and tools print when a pod cannot
 * get Google credentials. Each entry is one (library, kind) with the wording looked up in the library's
 * source (cited per entry), a few literal `needles` and a confirming `pattern`.
 *
 * Matching is two-stage because 99% of container logs are noise: a message is only tried against the
 * patterns when it contains one of the needles (`String.includes`, no regular expression). Every
 * pattern requires one of its own needles literally, so the needles are also what the workload-log
 * sink filter asks Cloud Logging for (filter.ts): the filter and the classifier cannot drift apart.
 *
 * Needles use only letters, digits, spaces and `.,:;_()-`: JSON encoders escape `"`, `\` and
 * control characters, some escape `/`, and Gson (which Google exporters use) also escapes `<`, `>`,
 * `&`, `=` and `'` as `\u00XX`; with these characters only, a needle found in a message is found in
 * any JSON serialisation of the entry too (prescreen.ts relies on it).
 *
 * Order matters: the first matching entry wins, so tools that embed another library's wording
 * (gcloud prints google-auth's) come before it, and the metadata server's own response wording
 * (which every client quotes) comes last, for clients none of the entries names.
 */

export const SYMPTOM_KINDS = [
  /** The pod cannot reach the metadata server (connection refused, timeout, DNS). */
  'metadata-unreachable',
  /** IAM refused the token: 403 `iam.serviceAccounts.getAccessToken` (workloadIdentityUser missing), or the GSA is gone. */
  'token-denied',
  /** The token endpoint answered `invalid_grant` (a key or JWT that is revoked, disabled or deleted). */
  'invalid-grant',
  /** The library found no credentials at all (ADC fell through every source). */
  'no-credentials',
  /** The metadata server answered with a server error, or the gke-metadata-server pod logged one. */
  'metadata-server-error',
] as const;

export type SymptomKind = (typeof SYMPTOM_KINDS)[number];

export const LIBRARIES = ['go', 'python', 'java', 'node', 'gcloud', 'gke-metadata-server'] as const;
export type Library = (typeof LIBRARIES)[number];

export interface Signature {
  /** `library/kind` plus a qualifier when a library has two wordings for one kind. */
  id: string;
  library: Library;
  kind: SymptomKind;
  /** Literal substrings; `pattern` can only match text that contains one of them. */
  needles: readonly string[];
  pattern: RegExp;
  /** Where the wording is written: `owner/repo` and the file. */
  source: { repo: string; path: string };
}

// Shared pieces of wording.
const GCLOUD_REFRESH = String.raw`There was a problem refreshing (?:your current auth tokens|auth tokens for account \S+): `;
const PY_RETRIEVE = String.raw`Failed to retrieve \S+ from the Google Compute Engine ?metadata service\. `;
const JAVA_TOKEN = 'trying to get security access token from Compute Engine metadata';

export const SIGNATURES: readonly Signature[] = [
  // gcloud wraps google-auth's RefreshError in TokenRefreshError; with Workload Identity the
  // newer wording names the GSA ("auth tokens for account GSA"). Its inner text decides the kind.
  {
    id: 'gcloud/token-denied',
    library: 'gcloud',
    kind: 'token-denied',
    needles: ['There was a problem refreshing'],
    pattern: new RegExp(
      `${GCLOUD_REFRESH}[\\s\\S]{0,600}?(?:Status: 40[34]|Unable to generate access token|getAccessToken' denied)`,
    ),
    source: {
      repo: 'google-cloud-sdk-unofficial/google-cloud-sdk',
      path: 'lib/googlecloudsdk/core/credentials/exceptions.py',
    },
  },
  {
    id: 'gcloud/metadata-server-error',
    library: 'gcloud',
    kind: 'metadata-server-error',
    needles: ['There was a problem refreshing'],
    pattern: new RegExp(`${GCLOUD_REFRESH}[\\s\\S]{0,600}?Status: 5\\d\\d`),
    source: {
      repo: 'google-cloud-sdk-unofficial/google-cloud-sdk',
      path: 'lib/googlecloudsdk/core/credentials/exceptions.py',
    },
  },
  {
    id: 'gcloud/metadata-unreachable',
    library: 'gcloud',
    kind: 'metadata-unreachable',
    needles: ['There was a problem refreshing'],
    pattern: new RegExp(`${GCLOUD_REFRESH}[\\s\\S]{0,600}?Metadata server unavailable`),
    source: {
      repo: 'google-cloud-sdk-unofficial/google-cloud-sdk',
      path: 'lib/googlecloudsdk/core/credentials/exceptions.py',
    },
  },
  {
    id: 'gcloud/invalid-grant',
    library: 'gcloud',
    kind: 'invalid-grant',
    needles: ['There was a problem refreshing'],
    pattern: new RegExp(`${GCLOUD_REFRESH}[\\s\\S]{0,600}?invalid_grant`),
    source: {
      repo: 'google-cloud-sdk-unofficial/google-cloud-sdk',
      path: 'lib/googlecloudsdk/core/credentials/exceptions.py',
    },
  },
  {
    // NoActiveAccountException: inside a pod, gcloud found no account on the metadata server either.
    id: 'gcloud/no-credentials',
    library: 'gcloud',
    kind: 'no-credentials',
    needles: ['You do not currently have an active account selected'],
    pattern: /You do not currently have an active account selected\./,
    source: {
      repo: 'google-cloud-sdk-unofficial/google-cloud-sdk',
      path: 'lib/googlecloudsdk/core/credentials/exceptions.py',
    },
  },

  // Go: cloud.google.com/go/compute/metadata formats a non-200 answer as
  // "compute: Received %d `%s`" (the body is the metadata server's) and a 404 as NotDefinedError,
  // which drops the body; golang.org/x/oauth2 quotes the token endpoint's error.
  {
    id: 'go/token-denied',
    library: 'go',
    kind: 'token-denied',
    needles: ['compute: Received'],
    pattern: /compute: Received 40[34] `/,
    source: { repo: 'googleapis/google-cloud-go', path: 'compute/metadata/metadata.go' },
  },
  {
    id: 'go/token-denied-not-defined',
    library: 'go',
    kind: 'token-denied',
    needles: ['metadata: GCE metadata'],
    pattern: /metadata: GCE metadata \\?"instance\/service-accounts\/[^"\\/]+\/token[^"\\]*\\?" not defined/,
    source: { repo: 'googleapis/google-cloud-go', path: 'compute/metadata/metadata.go' },
  },
  {
    id: 'go/metadata-server-error',
    library: 'go',
    kind: 'metadata-server-error',
    needles: ['compute: Received'],
    pattern: /compute: Received 5\d\d `/,
    source: { repo: 'googleapis/google-cloud-go', path: 'compute/metadata/metadata.go' },
  },
  {
    // net/http and net errors from the metadata client: the address and the failure, as Go prints them.
    id: 'go/metadata-unreachable',
    library: 'go',
    kind: 'metadata-unreachable',
    needles: ['169.254.169.254', 'metadata.google.internal'],
    pattern:
      /dial tcp (?:169\.254\.169\.254:80: (?:connect: connection refused|i\/o timeout|connect: no route to host|connect: connection timed out)|: lookup metadata\.google\.internal[^:\n]{0,80}: no such host)|"http:\/\/(?:169\.254\.169\.254|metadata\.google\.internal)\/computeMetadata\/v1\/[^"\s]{0,300}": context deadline exceeded/,
    source: { repo: 'googleapis/google-cloud-go', path: 'compute/metadata/metadata.go' },
  },
  {
    // RetrieveError: `oauth2: "invalid_grant" "…"`, or the older "cannot fetch token: 400 … Response: {…}".
    id: 'go/invalid-grant',
    library: 'go',
    kind: 'invalid-grant',
    needles: ['invalid_grant'],
    pattern:
      /oauth2: \\?"invalid_grant\\?"|oauth2: cannot fetch token: 400 Bad Request\s+Response: [^\n]{0,300}?invalid_grant/,
    source: { repo: 'golang/oauth2', path: 'token.go' },
  },
  {
    // golang.org/x/oauth2/google ("google: …") and cloud.google.com/go/auth ("credentials: …").
    id: 'go/no-credentials',
    library: 'go',
    kind: 'no-credentials',
    needles: ['could not find default credentials'],
    pattern: /(?:google|credentials): could not find default credentials/,
    source: { repo: 'golang/oauth2', path: 'google/default.go' },
  },

  // Java: ComputeEngineCredentials.refreshAccessToken quotes the status and the body.
  {
    id: 'java/token-denied',
    library: 'java',
    kind: 'token-denied',
    needles: [JAVA_TOKEN],
    pattern: new RegExp(`Error code 40[34] ${JAVA_TOKEN}`),
    source: {
      repo: 'googleapis/google-auth-library-java',
      path: 'oauth2_http/java/com/google/auth/oauth2/ComputeEngineCredentials.java',
    },
  },
  {
    id: 'java/metadata-server-error',
    library: 'java',
    kind: 'metadata-server-error',
    needles: [JAVA_TOKEN],
    pattern: new RegExp(`Unexpected Error code 5\\d\\d ${JAVA_TOKEN}`),
    source: {
      repo: 'googleapis/google-auth-library-java',
      path: 'oauth2_http/java/com/google/auth/oauth2/ComputeEngineCredentials.java',
    },
  },
  {
    id: 'java/metadata-unreachable',
    library: 'java',
    kind: 'metadata-unreachable',
    needles: ['ComputeEngineCredentials cannot find the metadata server'],
    pattern: /ComputeEngineCredentials cannot find the metadata server\./,
    source: {
      repo: 'googleapis/google-auth-library-java',
      path: 'oauth2_http/java/com/google/auth/oauth2/ComputeEngineCredentials.java',
    },
  },
  {
    id: 'java/invalid-grant',
    library: 'java',
    kind: 'invalid-grant',
    needles: ['Error getting access token for service account'],
    pattern: /Error getting access token for service account: 400 Bad Request[\s\S]{0,400}?invalid_grant/,
    source: {
      repo: 'googleapis/google-auth-library-java',
      path: 'oauth2_http/java/com/google/auth/oauth2/ServiceAccountCredentials.java',
    },
  },
  {
    // DefaultCredentialsProvider: the current wording, then the one before set-up-adc.
    id: 'java/no-credentials',
    library: 'java',
    kind: 'no-credentials',
    needles: [
      'Your default credentials were not found',
      'The Application Default Credentials are not available',
    ],
    pattern:
      /Your default credentials were not found\. To set up Application Default Credentials for your environment|The Application Default Credentials are not available\./,
    source: {
      repo: 'googleapis/google-auth-library-java',
      path: 'oauth2_http/java/com/google/auth/oauth2/DefaultCredentialsProvider.java',
    },
  },

  // Python google-auth: compute_engine/_metadata.get raises TransportError with the URL, the status
  // and the body; credentials.refresh re-raises it as RefreshError. Older releases lacked the space
  // in "Compute Engine metadata".
  {
    id: 'python/token-denied',
    library: 'python',
    kind: 'token-denied',
    needles: ['from the Google Compute Engine'],
    pattern: new RegExp(`${PY_RETRIEVE}Status: 40[34] Response:`),
    source: {
      repo: 'googleapis/google-auth-library-python',
      path: 'google/auth/compute_engine/_metadata.py',
    },
  },
  {
    id: 'python/metadata-server-error',
    library: 'python',
    kind: 'metadata-server-error',
    needles: ['from the Google Compute Engine'],
    pattern: new RegExp(`${PY_RETRIEVE}Status: 5\\d\\d Response:`),
    source: {
      repo: 'googleapis/google-auth-library-python',
      path: 'google/auth/compute_engine/_metadata.py',
    },
  },
  {
    // The final TransportError after the retries, the per-attempt warning, and _default's warning.
    id: 'python/metadata-unreachable',
    library: 'python',
    kind: 'metadata-unreachable',
    needles: ['Compute Engine Metadata server unavailable', 'due to unavailable metadata server'],
    pattern:
      /Compute Engine Metadata server unavailable|Authentication failed using Compute Engine authentication due to unavailable metadata server\./,
    source: {
      repo: 'googleapis/google-auth-library-python',
      path: 'google/auth/compute_engine/_metadata.py',
    },
  },
  {
    // oauth2/_client._handle_error_response: RefreshError("invalid_grant: DESCRIPTION", response).
    id: 'python/invalid-grant',
    library: 'python',
    kind: 'invalid-grant',
    needles: ['invalid_grant'],
    pattern: /\(['"]invalid_grant: /,
    source: { repo: 'googleapis/google-auth-library-python', path: 'google/oauth2/_client.py' },
  },
  {
    id: 'python/no-credentials',
    library: 'python',
    kind: 'no-credentials',
    needles: ['Your default credentials were not found', 'Could not automatically determine credentials'],
    pattern:
      /Your default credentials were not found\. To set up Application Default Credentials, see|Could not automatically determine credentials\./,
    source: { repo: 'googleapis/google-auth-library-python', path: 'google/auth/_default.py' },
  },

  // Node google-auth-library: Compute.refreshTokenNoCache prefixes "Could not refresh access token"
  // and wrapError explains 403 / 404 (the 404 text really lacks the space in "accesstoken");
  // gcp-metadata fetches through gaxios, whose node-fetch says "request to URL failed, reason: …".
  {
    id: 'node/token-denied',
    library: 'node',
    kind: 'token-denied',
    needles: ['error was returned while attempting to retrieve an access'],
    pattern:
      /A (?:Forbidden|Not Found) error was returned while attempting to retrieve an access ?token for the Compute Engine built-in service account/,
    source: { repo: 'googleapis/google-auth-library-nodejs', path: 'src/auth/computeclient.ts' },
  },
  {
    id: 'node/metadata-server-error',
    library: 'node',
    kind: 'metadata-server-error',
    needles: ['Could not refresh access token'],
    pattern: /Could not refresh access token: (?:Request failed with status code 5\d\d|GKE Metadata Server)/,
    source: { repo: 'googleapis/google-auth-library-nodejs', path: 'src/auth/computeclient.ts' },
  },
  {
    id: 'node/metadata-unreachable',
    library: 'node',
    kind: 'metadata-unreachable',
    needles: ['169.254.169.254', 'metadata.google.internal'],
    pattern:
      /request to http:\/\/(?:169\.254\.169\.254|metadata\.google\.internal)\/computeMetadata\/v1\/\S{0,300} failed, reason: /,
    source: { repo: 'node-fetch/node-fetch', path: 'src/index.js' },
  },
  {
    id: 'node/invalid-grant',
    library: 'node',
    kind: 'invalid-grant',
    needles: ['invalid_grant'],
    pattern: /(?:GaxiosError|Could not refresh access token): invalid_grant/,
    source: { repo: 'googleapis/google-auth-library-nodejs', path: 'src/auth/oauth2client.ts' },
  },
  {
    id: 'node/no-credentials',
    library: 'node',
    kind: 'no-credentials',
    needles: ['Could not load the default credentials'],
    pattern:
      /Could not load the default credentials\. Browse to https:\/\/cloud\.google\.com\/docs\/authentication/,
    source: { repo: 'googleapis/google-auth-library-nodejs', path: 'src/auth/googleauth.ts' },
  },

  // The GKE metadata server's own answer to a token request, which every client quotes; last, so a
  // known library's wrapper names the library, and any other client is still recognised. The
  // component is closed source: the wording is taken from answers quoted in public issues
  // (camunda/camunda#31106, googleapis/google-cloud-java#5747), past ("returned") and present ("returns").
  {
    id: 'gke-metadata-server/token-denied',
    library: 'gke-metadata-server',
    kind: 'token-denied',
    needles: ['Unable to generate access token; IAM return'],
    pattern: /Unable to generate access token; IAM return(?:s|ed) 40[34]/,
    source: { repo: 'camunda/camunda', path: 'issues/31106' },
  },
  {
    id: 'gke-metadata-server/metadata-server-error',
    library: 'gke-metadata-server',
    kind: 'metadata-server-error',
    needles: ['GKE Metadata Server:'],
    pattern: /GKE Metadata Server: [A-Z][A-Za-z ]{0,40}Error/,
    source: { repo: 'googleapis/google-cloud-java', path: 'issues/5747' },
  },
];

/**
 * The gke-metadata-server DaemonSet: its pods' own errors are symptoms whatever they say (its
 * wording is not public), so they are recognised by where they run, not by their text.
 */
export const METADATA_SERVER_POD = {
  namespace: 'kube-system',
  container: 'gke-metadata-server',
} as const;

/** Every needle once, in signature order: the prescreen and the sink filter both use this list. */
export const NEEDLES: readonly string[] = [...new Set(SIGNATURES.flatMap((s) => s.needles))];

/**
 * One alternation of every needle: irregexp scans the text once, where a `String.includes` per
 * needle scans it once per needle (about 3× slower on a 600-character log line, measured).
 */
const ANY_NEEDLE = new RegExp(
  NEEDLES.map((needle) => needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
);

/** Whether `text` holds any needle: the cheap test every log line pays. */
export function hasNeedle(text: string): boolean {
  return ANY_NEEDLE.test(text);
}

/** The first signature whose needle and pattern both match `text`, or undefined. */
export function matchSignature(text: string): Signature | undefined {
  if (!hasNeedle(text)) return undefined;
  for (const signature of SIGNATURES) {
    if (signature.needles.some((needle) => text.includes(needle)) && signature.pattern.test(text)) {
      return signature;
    }
  }
  return undefined;
}
