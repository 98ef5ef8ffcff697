/**
 * The credential-failure signatures: what Google's client libraries and tools print when a pod cannot
 * get Google credentials. Each entry is one wording of one (library, kind), looked up in the history
 * of the file that formats it (cited with the releases that print it), with a few literal `needles`
 * and a confirming `pattern`. Real clusters run clients that are years old, so a wording that changed
 * keeps its old form beside the new one.
 *
 * Matching is two-stage because 99% of container logs are noise: a message is only tried against the
 * patterns when it contains one of the needles (`String.includes`, no regular expression). Needles
 * that ordinary logs print too (the metadata address, `invalid_grant`) come with `alongside` terms, one
 * of which must also be in the text: the failure words beside an address, the service-account
 * descriptions beside `invalid_grant`. The sink filter asks Cloud Logging for exactly these rules
 * (filter.ts), and the classifier checks them before any pattern, so the filter routes everything the
 * classifier can recognise.
 *
 * Needles use only letters, digits, spaces and `.,:;_()-`: JSON encoders escape `"`, `\` and
 * control characters, some escape `/`, and Gson (which Google exporters use) also escapes `<`, `>`,
 * `&`, `=` and `'` as `\u00XX`; with these characters only, a needle found in a message is found in
 * any JSON serialisation of the entry too (prescreen.ts relies on it). `alongside` terms are compared
 * without regard to case, as Logging compares them.
 *
 * A signature with a known look-alike judges by the rest of the message: `unless` names what the
 * look-alike says instead (another cloud's metadata service, an API that is disabled, another OAuth
 * provider), and test/fixtures/symptoms/noise holds a sample of each.
 *
 * Order matters: the first matching entry wins, so tools that embed another library's wording (gcloud
 * prints google-auth's) come before it, and the metadata server's own answer (which every client
 * quotes) comes last, for clients none of the entries names.
 */

export const SYMPTOM_KINDS = [
  /** The pod cannot reach the metadata server (connection refused, timeout, DNS, a sidecar in between). */
  'metadata-unreachable',
  /** IAM refused the token: 403 `iam.serviceAccounts.getAccessToken` (workloadIdentityUser missing), or the GSA is gone. */
  'token-denied',
  /** The token endpoint answered `invalid_grant` for a service account (its key revoked, the account disabled or deleted). */
  'invalid-grant',
  /** The library found no credentials at all (ADC fell through every source). */
  'no-credentials',
  /** The metadata server answered with a server error, or the gke-metadata-server pod logged one. */
  'metadata-server-error',
] as const;

export type SymptomKind = (typeof SYMPTOM_KINDS)[number];

/**
 * Who printed the line: a client library or tool, `gke-metadata-server` for the metadata server's own
 * pods, `other` for a client none of the signatures names that quotes the metadata server's answer.
 */
export const LIBRARIES = [
  'go',
  'python',
  'java',
  'node',
  'dotnet',
  'gcloud',
  'gsutil',
  'gke-metadata-server',
  'other',
] as const;
export type Library = (typeof LIBRARIES)[number];

export interface SignatureSource {
  /** `owner/repo` on GitHub. */
  repo: string;
  /** The file that formats the wording. */
  path: string;
  /** The releases that print this wording (first–last, or `…` for the current one). */
  versions: string;
}

export interface Signature {
  /** `library/kind` plus a qualifier when a library has several wordings for one kind. */
  id: string;
  library: Library;
  kind: SymptomKind;
  /** Literal substrings; `pattern` is only tried on text that contains one of them. */
  needles: readonly string[];
  /** When set, the text must also contain one of these (any case): what makes a broad needle specific. */
  alongside?: readonly string[];
  pattern: RegExp;
  /** A look-alike the rest of the message gives away: text matching it is not this signature. */
  unless?: RegExp;
  source: SignatureSource;
}

// ---- Shared pieces -------------------------------------------------------------------------------

/** Failure words a network stack prints beside the address it failed to reach (Go, Node, Python, .NET). */
const NETWORK_FAILURE = [
  'refused',
  'timed out',
  'timeout',
  'timedout',
  'deadline',
  'unreach',
  'no route',
  'no such host',
  'notfound',
  'eai_again',
  'not known',
  'temporar',
  'host is down',
  'max retries',
  'cannot connect',
  'reset',
  'reason',
] as const;

/**
 * What Google's token endpoint says when a service-account grant fails: a revoked or deleted key, a
 * disabled or deleted account, a clock far off. Another provider's `invalid_grant` (a shopper's
 * password, an expired authorization code) and a user's revoked refresh token say something else.
 */
const SERVICE_ACCOUNT_GRANT = ['invalid jwt', 'account not found', 'robot is disabled'] as const;

/**
 * Another cloud's metadata service at the same address: AWS (`/latest/…`), Azure (`/metadata/…`)
 * and their SDKs probe it from GKE pods too, and fail the same way.
 */
const OTHER_CLOUD =
  /169\.254\.169\.254(?::80)?\/(?:latest|metadata)\/|Azure\.|ManagedIdentityCredential|botocore|aws-sdk|ec2metadata|IMDS/;

const METADATA_HOST = String.raw`(?:169\.254\.169\.254|metadata\.google\.internal\.?|metadata)(?::80)?`;
const METADATA_URL = `http://${METADATA_HOST}/computeMetadata/v1/`;
/** The metadata server's answer to a refused token request: "IAM returned" (2019–), "IAM returns" (2024–). */
const IAM_REFUSED = `Unable to generate access token; IAM return(?:s|ed) 40[34]`;

const GCLOUD_REFRESH = String.raw`There was a problem refreshing (?:your current auth tokens|auth tokens for account \S+): `;
/** google-auth's TransportError, with "Compute Enginemetadata" (no space) before 2.4.0. */
const PY_RETRIEVE = String.raw`Failed to retrieve \S+ from the Google Compute Engine ?metadata service\. `;
const JAVA_TOKEN = 'trying to get security access token';
const JAVA_TOKEN_NEEDLE = 'get security access token';

const GOOGLE_AUTH_PY = 'googleapis/google-auth-library-python';
const PY_METADATA = 'google/auth/compute_engine/_metadata.py';
const GCLOUD_SDK = 'google-cloud-sdk-unofficial/google-cloud-sdk';
const GCLOUD_EXCEPTIONS = 'lib/googlecloudsdk/core/credentials/exceptions.py';
const GCLOUD_VERSIONS = 'gcloud ≤ 477 ("your current auth tokens"), 478.0.0 (2024-05) … ("for account GSA")';
const AUTH_JAVA = 'googleapis/google-auth-library-java';
const JAVA_COMPUTE = 'oauth2_http/java/com/google/auth/oauth2/ComputeEngineCredentials.java';
const AUTH_NODE = 'googleapis/google-auth-library-nodejs';
const NODE_COMPUTE = 'src/auth/computeclient.ts';
const DOTNET = 'googleapis/google-api-dotnet-client';
const DOTNET_TOKEN = 'Src/Support/Google.Apis.Auth/OAuth2/Responses/TokenResponse.cs';
const OAUTH2CLIENT = 'googleapis/oauth2client';

export const SIGNATURES: readonly Signature[] = [
  // ---- gcloud and gsutil: they embed google-auth's (earlier oauth2client's) wording, so they go first.
  // gcloud wraps the inner RefreshError in TokenRefreshError; its inner text decides the kind.
  {
    id: 'gcloud/token-denied',
    library: 'gcloud',
    kind: 'token-denied',
    needles: ['problem refreshing'],
    pattern: new RegExp(
      `${GCLOUD_REFRESH}[\\s\\S]{0,600}?(?:Status: 40[34]|'status': '40[34]'|Unable to generate access token|getAccessToken' denied)`,
    ),
    source: { repo: GCLOUD_SDK, path: GCLOUD_EXCEPTIONS, versions: GCLOUD_VERSIONS },
  },
  {
    id: 'gcloud/metadata-server-error',
    library: 'gcloud',
    kind: 'metadata-server-error',
    needles: ['problem refreshing'],
    pattern: new RegExp(
      `${GCLOUD_REFRESH}[\\s\\S]{0,600}?(?:Status: 5\\d\\d|status: 5\\d\\d|'status': '5\\d\\d')`,
    ),
    source: { repo: GCLOUD_SDK, path: GCLOUD_EXCEPTIONS, versions: GCLOUD_VERSIONS },
  },
  {
    id: 'gcloud/metadata-unreachable',
    library: 'gcloud',
    kind: 'metadata-unreachable',
    needles: ['problem refreshing'],
    pattern: new RegExp(
      `${GCLOUD_REFRESH}[\\s\\S]{0,600}?(?:Metadata server unavailable|Max retries exceeded with url: /computeMetadata/)`,
    ),
    source: { repo: GCLOUD_SDK, path: GCLOUD_EXCEPTIONS, versions: GCLOUD_VERSIONS },
  },
  {
    id: 'gcloud/invalid-grant',
    library: 'gcloud',
    kind: 'invalid-grant',
    needles: ['problem refreshing'],
    alongside: SERVICE_ACCOUNT_GRANT,
    pattern: new RegExp(`${GCLOUD_REFRESH}[\\s\\S]{0,600}?invalid_grant`),
    source: { repo: GCLOUD_SDK, path: GCLOUD_EXCEPTIONS, versions: GCLOUD_VERSIONS },
  },
  {
    // NoActiveAccountException: inside a pod, gcloud found no account on the metadata server either.
    id: 'gcloud/no-credentials',
    library: 'gcloud',
    kind: 'no-credentials',
    needles: ['active account selected'],
    pattern: /You do not currently have an active account selected\./,
    source: { repo: GCLOUD_SDK, path: GCLOUD_EXCEPTIONS, versions: 'every release since 2017' },
  },
  {
    // gcs_json_credentials: the metadata server's token failed ("GCE" is the credential type it tried).
    id: 'gsutil/token-denied',
    library: 'gsutil',
    kind: 'token-denied',
    needles: ['credentials are invalid'],
    pattern: /Your \\?"GCE\\?" credentials are invalid\./,
    source: {
      repo: 'GoogleCloudPlatform/gsutil',
      path: 'gslib/gcs_json_credentials.py',
      versions: '4.19 (2016) … 5.x',
    },
  },
  {
    // apitools' GceAssertionCredentials when the metadata server does not answer (blocked, unreachable).
    id: 'gsutil/metadata-unreachable',
    library: 'gsutil',
    kind: 'metadata-unreachable',
    needles: ['outside a GCE instance'],
    pattern: /GCE credentials requested outside a GCE instance/,
    source: {
      repo: 'google/apitools',
      path: 'apitools/base/py/credentials_lib.py',
      versions: 'bundled with gsutil 4.x–5.x',
    },
  },

  // ---- Go: cloud.google.com/go/compute/metadata formats a non-200 answer as "compute: Received %d
  // `%s`" (the body is the metadata server's) and a 404 as NotDefinedError; the newer
  // cloud.google.com/go/auth prefixes "credentials: cannot fetch token: ". golang.org/x/oauth2
  // quotes the token endpoint's error. The default host is 169.254.169.254 in every release.
  {
    id: 'go/token-denied',
    library: 'go',
    kind: 'token-denied',
    needles: ['compute: Received'],
    pattern: /compute: Received 40[34] `/,
    source: {
      repo: 'googleapis/google-cloud-go',
      path: 'compute/metadata/metadata.go',
      versions: 'cloud.google.com/go 2019 … compute/metadata v0.9',
    },
  },
  {
    id: 'go/token-denied-not-defined',
    library: 'go',
    kind: 'token-denied',
    needles: ['metadata: GCE metadata'],
    pattern: /metadata: GCE metadata \\?"instance\/service-accounts\/[^"\\/]+\/token[^"\\]*\\?" not defined/,
    source: {
      repo: 'googleapis/google-cloud-go',
      path: 'compute/metadata/metadata.go',
      versions: 'cloud.google.com/go 2017 … compute/metadata v0.9',
    },
  },
  {
    id: 'go/metadata-server-error',
    library: 'go',
    kind: 'metadata-server-error',
    needles: ['compute: Received'],
    pattern: /compute: Received 5\d\d `/,
    source: {
      repo: 'googleapis/google-cloud-go',
      path: 'compute/metadata/metadata.go',
      versions: 'cloud.google.com/go 2019 … compute/metadata v0.9',
    },
  },
  {
    // net/http's url.Error around the metadata request: `Get "URL": …` since Go 1.14, `Get URL: …`
    // before; dial errors, the client's 5 s timeout (compute/metadata ≥ v0.3), and DNS for the host.
    id: 'go/metadata-unreachable',
    library: 'go',
    kind: 'metadata-unreachable',
    needles: ['computeMetadata', 'metadata.google.internal'],
    alongside: NETWORK_FAILURE,
    pattern: new RegExp(
      String.raw`Get \\?"?${METADATA_URL}[^\s"\\]{0,400}\\?"?: (?:dial tcp [^\s:]+:80: (?:connect: )?(?:connection refused|i\/o timeout|no route to host|connection timed out|network is unreachable)|context deadline exceeded|net\/http: (?:request canceled[^\n]{0,80}Timeout|timeout awaiting)|read tcp [^\s]+: (?:read: )?connection reset by peer)|dial tcp: lookup metadata\.google\.internal\.?(?: on [^\s:]+:53)?: (?:no such host|i\/o timeout)`,
    ),
    unless: OTHER_CLOUD,
    source: {
      repo: 'golang/go',
      path: 'src/net/url/url.go (Error), src/net/net.go (OpError)',
      versions: 'Go 1.12 … 1.25, via compute/metadata',
    },
  },
  {
    // RetrieveError: `oauth2: "invalid_grant" "…"` since v0.8.0 (2023-04), before it
    // "oauth2: cannot fetch token: 400 Bad Request\nResponse: {…}".
    id: 'go/invalid-grant',
    library: 'go',
    kind: 'invalid-grant',
    needles: ['invalid_grant'],
    alongside: SERVICE_ACCOUNT_GRANT,
    pattern:
      /oauth2: \\?"invalid_grant\\?"|oauth2: cannot fetch token: 400 Bad Request\s+Response: [^\n]{0,300}?invalid_grant/,
    source: { repo: 'golang/oauth2', path: 'token.go', versions: 'v0.0.0-2017 … v0.30' },
  },
  {
    // golang.org/x/oauth2/google ("google: …", developers.google.com link until v0.6.0, set-up-adc
    // since v0.7.0) and cloud.google.com/go/auth ("credentials: …", 2024–).
    id: 'go/no-credentials',
    library: 'go',
    kind: 'no-credentials',
    needles: ['find default credentials'],
    pattern: /(?:google|credentials): could not find default credentials/,
    source: { repo: 'golang/oauth2', path: 'google/default.go', versions: '2015 … v0.30' },
  },

  // ---- Java: google-auth-library-java's ComputeEngineCredentials and google-api-java-client's
  // ComputeGoogleCredential print the same words; both quote the metadata server's body.
  {
    id: 'java/token-denied',
    library: 'java',
    kind: 'token-denied',
    needles: [JAVA_TOKEN_NEEDLE],
    pattern: new RegExp(`Error code 40[34] ${JAVA_TOKEN} from Compute Engine metadata`),
    source: { repo: AUTH_JAVA, path: JAVA_COMPUTE, versions: '0.1.0 (2015) … 1.43' },
  },
  {
    id: 'java/metadata-server-error',
    library: 'java',
    kind: 'metadata-server-error',
    needles: [JAVA_TOKEN_NEEDLE],
    pattern: new RegExp(`Unexpected Error code 5\\d\\d ${JAVA_TOKEN} from Compute Engine metadata`),
    source: { repo: AUTH_JAVA, path: JAVA_COMPUTE, versions: '0.1.0 (2015) … 1.16' },
  },
  {
    // google-http-client's HttpResponseException: a 503 since google-auth-library-java 1.17.0 (2023-05)
    // (GoogleAuthException), and every status from google-api-java-client's ComputeCredential. The
    // request line ("GET http://…/token") is in the message since google-http-client 1.31.
    id: 'java/token-denied-http',
    library: 'java',
    kind: 'token-denied',
    needles: ['HttpResponseException: 40'],
    pattern: new RegExp(
      `HttpResponseException: 40[34] [A-Za-z ]+\\s+(?:GET ${METADATA_URL}instance/service-accounts/[^/\\s]+/token|${IAM_REFUSED})`,
    ),
    source: {
      repo: 'googleapis/google-api-java-client',
      path: 'google-api-client/src/main/java/com/google/api/client/googleapis/compute/ComputeCredential.java',
      versions: '1.15 (2013) … 2.8',
    },
  },
  {
    id: 'java/metadata-server-error-http',
    library: 'java',
    kind: 'metadata-server-error',
    needles: ['HttpResponseException: 5'],
    pattern: new RegExp(
      `HttpResponseException: 5\\d\\d [A-Za-z ]+\\s+GET ${METADATA_URL}instance/service-accounts/[^/\\s]+/token`,
    ),
    source: { repo: AUTH_JAVA, path: JAVA_COMPUTE, versions: '1.17.0 (2023-05) … 1.43' },
  },
  {
    // UnknownHostException is wrapped with these words; a refused or timed-out connection is not, so
    // it is told by the token refresh in its stack trace. The window between them stops at the next
    // such exception, so a long text is scanned once, not once per exception.
    id: 'java/metadata-unreachable',
    library: 'java',
    kind: 'metadata-unreachable',
    needles: ['ComputeEngineCredentials'],
    pattern:
      /ComputeEngineCredentials cannot find the metadata server\.|java\.net\.(?:SocketTimeout|Connect|NoRouteToHost|UnknownHost)Exception(?:(?!java\.net\.(?:SocketTimeout|Connect|NoRouteToHost|UnknownHost)Exception)[\s\S]){0,6000}?at com\.google\.auth\.oauth2\.ComputeEngineCredentials\.(?:refreshAccessToken|getMetadataResponse)/,
    source: { repo: AUTH_JAVA, path: JAVA_COMPUTE, versions: '0.1.0 (2015) … 1.43' },
  },
  {
    // ServiceAccountCredentials: the token endpoint's body, and ", iss: EMAIL" in newer releases;
    // google-api-java-client's TokenResponseException for GoogleCredential.
    id: 'java/invalid-grant',
    library: 'java',
    kind: 'invalid-grant',
    needles: ['invalid_grant'],
    alongside: SERVICE_ACCOUNT_GRANT,
    pattern:
      /(?:Error getting access token for service account: 400 Bad Request|TokenResponseException: 400 Bad Request)[\s\S]{0,400}?invalid_grant/,
    source: {
      repo: AUTH_JAVA,
      path: 'oauth2_http/java/com/google/auth/oauth2/ServiceAccountCredentials.java',
      versions: '0.1.0 (2015) … 1.43',
    },
  },
  {
    // DefaultCredentialsProvider since 1.17.0 (2023-05).
    id: 'java/no-credentials',
    library: 'java',
    kind: 'no-credentials',
    needles: ['credentials were not found'],
    pattern:
      /Your default credentials were not found\. To set up Application Default Credentials for your environment/,
    source: {
      repo: AUTH_JAVA,
      path: 'oauth2_http/java/com/google/auth/oauth2/DefaultCredentialsProvider.java',
      versions: '1.17.0 (2023-05) … 1.43',
    },
  },
  {
    // google-api-java-client's DefaultCredentialProvider (GoogleCredential.getApplicationDefault).
    id: 'java/no-credentials-api-client',
    library: 'java',
    kind: 'no-credentials',
    needles: ['Credentials are not available'],
    pattern:
      /The Application Default Credentials are not available\. They are available if running on Google App Engine, Google Compute Engine, or Google Cloud Shell\./,
    source: {
      repo: 'googleapis/google-api-java-client',
      path: 'google-api-client/src/main/java/com/google/api/client/googleapis/auth/oauth2/DefaultCredentialProvider.java',
      versions: '1.19 (2014) … 2.8',
    },
  },

  // ---- Python: google-auth's compute_engine/_metadata.get raises TransportError with the URL, the
  // status and the body; credentials.refresh re-raises it as RefreshError. oauth2client (deprecated
  // 2017, still inside old images and gsutil) printed httplib2's response headers instead of the body.
  {
    id: 'python/token-denied',
    library: 'python',
    kind: 'token-denied',
    needles: ['the Google Compute Engine'],
    pattern: new RegExp(`${PY_RETRIEVE}Status: 40[34] Response:`),
    source: { repo: GOOGLE_AUTH_PY, path: PY_METADATA, versions: '1.0.0 (2017) … 2.48' },
  },
  {
    id: 'python/token-denied-oauth2client',
    library: 'python',
    kind: 'token-denied',
    needles: ['the Google Compute Engine'],
    pattern: new RegExp(`${PY_RETRIEVE}Response:\\s*\\{[^}]{0,1500}?'status': '40[34]'`),
    source: {
      repo: OAUTH2CLIENT,
      path: 'oauth2client/contrib/_metadata.py',
      versions: '2.0.0 (2016) … 4.1.3',
    },
  },
  {
    // Until 2.45: "Status: 5xx Response:"; since 2.34 each retried attempt warns "Response status: 5xx",
    // and since 2.46 the final error says "… unavailable. Response status: 5xx".
    id: 'python/metadata-server-error',
    library: 'python',
    kind: 'metadata-server-error',
    needles: ['the Google Compute Engine', 'Metadata server unavailable'],
    pattern: new RegExp(
      `${PY_RETRIEVE}Status: 5\\d\\d Response:|Compute Engine Metadata server unavailable[^\\n]{0,300}?Response status: 5\\d\\d|${PY_RETRIEVE}Response:\\s*\\{[^}]{0,1500}?'status': '5\\d\\d'`,
    ),
    source: { repo: GOOGLE_AUTH_PY, path: PY_METADATA, versions: '1.0.0 (2017) … 2.48' },
  },
  {
    // The final TransportError after the retries (1.10.1–2.37: "unavailable", 2.38–2.45: "unavailable
    // due to …", 2.46–: "unavailable. Last exception: …"), the per-attempt warning (1.20–), and
    // _default's warning when ADC gives up on the metadata server (1.20–).
    id: 'python/metadata-unreachable',
    library: 'python',
    kind: 'metadata-unreachable',
    needles: ['Metadata server unavailable', 'unavailable metadata server'],
    pattern:
      /Compute Engine Metadata server unavailable|Authentication failed using Compute Engine authentication due to unavailable metadata server\./,
    source: { repo: GOOGLE_AUTH_PY, path: PY_METADATA, versions: '1.10.1 (2020-01) … 2.48' },
  },
  {
    // Before the retries (google-auth < 1.10.1, oauth2client, gcsfs): urllib3's MaxRetryError as the
    // requests transport raised it, and aiohttp's for the asyncio clients.
    id: 'python/metadata-unreachable-urllib3',
    library: 'python',
    kind: 'metadata-unreachable',
    needles: ['metadata.google.internal', '169.254.169.254'],
    alongside: NETWORK_FAILURE,
    pattern:
      /HTTPConnectionPool\(host=\\?'(?:metadata\.google\.internal|169\.254\.169\.254|metadata)\\?', port=80\): (?:Max retries exceeded with url: \/computeMetadata\/|Read timed out)|Cannot connect to host (?:metadata\.google\.internal|169\.254\.169\.254):80 /,
    source: {
      repo: 'urllib3/urllib3',
      path: 'src/urllib3/exceptions.py (MaxRetryError)',
      versions: '1.x … 2.x',
    },
  },
  {
    // oauth2/_client._handle_error_response: RefreshError("invalid_grant: DESCRIPTION", response);
    // oauth2client: HttpAccessTokenRefreshError("invalid_grant: DESCRIPTION").
    id: 'python/invalid-grant',
    library: 'python',
    kind: 'invalid-grant',
    needles: ['invalid_grant'],
    alongside: SERVICE_ACCOUNT_GRANT,
    pattern: /\(['"]invalid_grant: |(?:HttpAccessTokenRefreshError|AccessTokenRefreshError): invalid_grant/,
    source: { repo: GOOGLE_AUTH_PY, path: 'google/oauth2/_client.py', versions: '1.0.0 (2017) … 2.48' },
  },
  {
    // _default: "Could not automatically determine credentials." until 2.16.1, then set-up-adc.
    id: 'python/no-credentials',
    library: 'python',
    kind: 'no-credentials',
    needles: ['credentials were not found', 'determine credentials'],
    pattern:
      /Your default credentials were not found\. To set up Application Default Credentials, see|Could not automatically determine credentials\./,
    source: { repo: GOOGLE_AUTH_PY, path: 'google/auth/_default.py', versions: '1.0.0 (2017) … 2.48' },
  },
  {
    id: 'python/no-credentials-oauth2client',
    library: 'python',
    kind: 'no-credentials',
    needles: ['Credentials are not available'],
    pattern: /ApplicationDefaultCredentialsError: The Application Default Credentials are not available\./,
    source: { repo: OAUTH2CLIENT, path: 'oauth2client/client.py', versions: '1.4 (2015) … 4.1.3' },
  },

  // ---- Node: google-auth-library's Compute.refreshTokenNoCache prefixes "Could not refresh access
  // token: " (4.0.0–) and wrapError explains 403 / 404 (the 404 text really lacks the space in
  // "accesstoken"); gcp-metadata added "Unsuccessful response status code. " until 6.1.0, and fetches
  // through gaxios, whose node-fetch says "request to URL failed, reason: …".
  {
    // Before 4.0.0 the same explanation prefixed every 403 the client saw, an API disabled or a
    // missing role included ("… specified. Cloud Pub/Sub API has not been used …"): only the form
    // followed by the token request's own failure is a symptom.
    id: 'node/token-denied',
    library: 'node',
    kind: 'token-denied',
    needles: ['to retrieve an access'],
    pattern:
      /A (?:Forbidden|Not Found) error was returned while attempting to retrieve an access ?token for the Compute Engine built-in service account\. This may be because the Compute Engine instance does not have (?:the correct|any) permission scopes specified(?:: |\.? )(?:Could not refresh access token|Unsuccessful response status code|Request failed with status code 40[34]|Unable to generate access token|[^\n]{0,200}?iam\.serviceAccounts\.getAccessToken)/,
    source: { repo: AUTH_NODE, path: NODE_COMPUTE, versions: '4.0.0 (2019-05) … 10.5' },
  },
  {
    id: 'node/metadata-server-error',
    library: 'node',
    kind: 'metadata-server-error',
    needles: ['Could not refresh access token'],
    pattern:
      /Could not refresh access token: (?:Unsuccessful response status code\. )?(?:Request failed with status code 5\d\d|GKE Metadata Server)/,
    source: { repo: AUTH_NODE, path: NODE_COMPUTE, versions: '4.0.0 (2019-05) … 10.5' },
  },
  {
    // node-fetch v2/v3 (gaxios 1–7): "request to URL failed, reason: …", "network timeout at: URL";
    // Node's own socket errors; the metadata host name that does not resolve.
    id: 'node/metadata-unreachable',
    library: 'node',
    kind: 'metadata-unreachable',
    needles: ['computeMetadata', '169.254.169.254', 'metadata.google.internal'],
    alongside: NETWORK_FAILURE,
    pattern: new RegExp(
      String.raw`request to ${METADATA_URL}\S{0,400} failed, reason: |network timeout at: ${METADATA_URL}|connect (?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH) 169\.254\.169\.254:80|getaddrinfo (?:ENOTFOUND|EAI_AGAIN) metadata\.google\.internal`,
    ),
    unless: OTHER_CLOUD,
    source: {
      repo: 'googleapis/gaxios',
      path: 'src/gaxios.ts (node-fetch)',
      versions: 'gaxios 1.0 (2018) … 7.1',
    },
  },
  {
    // Something other than the metadata server answered (a proxy or sidecar in between).
    id: 'node/metadata-unreachable-flavor',
    library: 'node',
    kind: 'metadata-unreachable',
    needles: ['incorrect Metadata-Flavor'],
    pattern: /Invalid response from metadata service: incorrect Metadata-Flavor header/,
    source: { repo: 'googleapis/gcp-metadata', path: 'src/index.ts', versions: '1.0.0 (2019) … 7.0' },
  },
  {
    // gtoken puts the error and its description in the message ("invalid_grant: Invalid JWT Signature.").
    id: 'node/invalid-grant',
    library: 'node',
    kind: 'invalid-grant',
    needles: ['invalid_grant'],
    alongside: SERVICE_ACCOUNT_GRANT,
    pattern:
      /(?:GaxiosError|Error|Could not refresh access token|Getting metadata from plugin failed with error): invalid_grant\b/,
    source: { repo: 'googleapis/node-gtoken', path: 'src/index.ts', versions: 'gtoken 2.0 (2018) … 8.0' },
  },
  {
    // The help link moved from developers.google.com to cloud.google.com in 2.0.1 (2018-09).
    id: 'node/no-credentials',
    library: 'node',
    kind: 'no-credentials',
    needles: ['load the default credentials'],
    pattern: /Could not load the default credentials\. Browse to https?:\/\//,
    source: { repo: AUTH_NODE, path: 'src/auth/googleauth.ts', versions: '1.0 (2018) … 10.5' },
  },

  // ---- .NET Google.Apis.Auth: TokenResponse.FromHttpResponseAsync cannot parse the metadata
  // server's plain-text answer, so the status name is all that is left of it; HttpClient names the
  // host and port it could not reach (.NET 5 and later).
  {
    id: 'dotnet/token-denied',
    library: 'dotnet',
    kind: 'token-denied',
    needles: ['not contain a JSON object'],
    pattern: /Server response does not contain a JSON object\. Status code is: (?:Forbidden|NotFound)/,
    source: { repo: DOTNET, path: DOTNET_TOKEN, versions: '1.10 (2015) … 1.73' },
  },
  {
    id: 'dotnet/metadata-server-error',
    library: 'dotnet',
    kind: 'metadata-server-error',
    needles: ['not contain a JSON object'],
    pattern:
      /Server response does not contain a JSON object\. Status code is: (?:InternalServerError|BadGateway|ServiceUnavailable|GatewayTimeout)/,
    source: { repo: DOTNET, path: DOTNET_TOKEN, versions: '1.10 (2015) … 1.73' },
  },
  {
    // Azure.Identity fails the same way at the same address: only Google's stack is a symptom. Before
    // .NET 5 the message named no host, so the token request's frame is what tells.
    id: 'dotnet/metadata-unreachable',
    library: 'dotnet',
    kind: 'metadata-unreachable',
    needles: ['169.254.169.254', 'metadata.google.internal', 'ComputeCredential'],
    alongside: NETWORK_FAILURE,
    pattern:
      /HttpRequestException: (?:[^\n()]{0,80}\((?:169\.254\.169\.254|metadata\.google\.internal):80\)(?:(?!HttpRequestException)[\s\S]){0,6000}?Google\.Apis\.Auth|(?:Connection refused|Connection timed out|No route to host|Network is unreachable|Name or service not known|Resource temporarily unavailable)\s(?:(?!HttpRequestException)[\s\S]){0,6000}?Google\.Apis\.Auth\.OAuth2\.ComputeCredential)/,
    unless: OTHER_CLOUD,
    source: {
      repo: 'dotnet/runtime',
      path: 'src/libraries/System.Net.Http/src/System/Net/Http/SocketsHttpHandler/ConnectHelper.cs',
      versions: '.NET Core 2.1 (2018) … .NET 9 (the host in the message since .NET 5)',
    },
  },
  {
    // TokenErrorResponse.ToString: Error:"invalid_grant", Description:"…", Uri:"".
    id: 'dotnet/invalid-grant',
    library: 'dotnet',
    kind: 'invalid-grant',
    needles: ['invalid_grant'],
    alongside: SERVICE_ACCOUNT_GRANT,
    pattern: /Error:\\?"invalid_grant\\?", Description:/,
    source: {
      repo: DOTNET,
      path: 'Src/Support/Google.Apis.Auth/OAuth2/Responses/TokenErrorResponse.cs',
      versions: '1.9 (2014) … 1.73',
    },
  },
  {
    // The same sentence as Java's and oauth2client's before 2023, told apart by .NET's exception type.
    id: 'dotnet/no-credentials',
    library: 'dotnet',
    kind: 'no-credentials',
    needles: ['Credentials are not available'],
    pattern: /InvalidOperationException: The Application Default Credentials are not available\./,
    source: {
      repo: DOTNET,
      path: 'Src/Support/Google.Apis.Auth/OAuth2/DefaultCredentialProvider.cs',
      versions: '1.10 (2015) … 1.73',
    },
  },
  {
    // google-auth-library-java before 1.17.0 (2023-05); .NET and oauth2client print the sentence too,
    // and are recognised above by their exception types.
    id: 'java/no-credentials-v0',
    library: 'java',
    kind: 'no-credentials',
    needles: ['Credentials are not available'],
    pattern:
      /The Application Default Credentials are not available\. They are available if running in Google Compute Engine\./,
    source: {
      repo: AUTH_JAVA,
      path: 'oauth2_http/java/com/google/auth/oauth2/DefaultCredentialsProvider.java',
      versions: '0.1.0 (2015) … 1.16',
    },
  },

  // ---- The GKE metadata server's own answer to a token request, which every client quotes; last,
  // so a known library's wrapper names the library, and any other client is still recognised. The
  // component is closed source: the wording is taken from answers quoted in public issues
  // (camunda/camunda#31106, googleapis/google-cloud-java#5747), past ("returned") and present ("returns").
  {
    id: 'other/token-denied',
    library: 'other',
    kind: 'token-denied',
    needles: ['Unable to generate access'],
    pattern: new RegExp(IAM_REFUSED),
    source: { repo: 'camunda/camunda', path: 'issues/31106', versions: 'GKE 1.13 (2019) … 1.33' },
  },
  {
    id: 'other/metadata-server-error',
    library: 'other',
    kind: 'metadata-server-error',
    needles: ['GKE Metadata Server:'],
    pattern: /GKE Metadata Server: [A-Z][A-Za-z ]{0,40}Error/,
    source: { repo: 'googleapis/google-cloud-java', path: 'issues/5747', versions: 'GKE 1.13 (2019) … 1.33' },
  },
];

/**
 * The gke-metadata-server DaemonSet: its pods' own errors are symptoms whatever they say (its
 * wording is not public), so they are recognised by where they run, not by their text; a line of
 * theirs that quotes a refusal is a symptom at any severity.
 */
export const METADATA_SERVER_POD = {
  namespace: 'kube-system',
  container: 'gke-metadata-server',
} as const;

/**
 * A sidecar proxy (Istio's Envoy) answering for a metadata server it cannot reach: the client
 * reports a 5xx whose body is Envoy's, and the failure is the path to the metadata server, not the
 * server. https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/local_reply
 */
const SIDECAR_REPLY =
  /upstream connect error or disconnect\/reset before headers|no healthy upstream|upstream request timeout/;

/** Every needle once, in signature order: the prescreen and the sink filter both use this list. */
export const NEEDLES: readonly string[] = [...new Set(SIGNATURES.flatMap((s) => s.needles))];

function asLiteral(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * One alternation of every needle: irregexp scans the text once, where a `String.includes` per
 * needle scans it once per needle (about 3× slower on a 600-character log line, measured).
 */
const ANY_NEEDLE = new RegExp(NEEDLES.map(asLiteral).join('|'));

/** Whether `text` holds any needle: the cheap test every log line pays. */
export function hasNeedle(text: string): boolean {
  return ANY_NEEDLE.test(text);
}

/** Whether the signature's literal rule (a needle, and an `alongside` term) holds for `text`. */
export function meetsRule(signature: Signature, text: string, lower?: string): boolean {
  if (!signature.needles.some((needle) => text.includes(needle))) return false;
  if (signature.alongside === undefined) return true;
  const folded = lower ?? text.toLowerCase();
  return signature.alongside.some((term) => folded.includes(term));
}

export interface Match {
  signature: Signature;
  /** The signature's kind, unless a sidecar answered for the metadata server. */
  kind: SymptomKind;
}

/** The first signature whose rule and pattern match `text` and whose look-alike does not, or undefined. */
export function matchSymptom(text: string): Match | undefined {
  if (!hasNeedle(text)) return undefined;
  let lower: string | undefined;
  for (const signature of SIGNATURES) {
    if (signature.alongside !== undefined) lower ??= text.toLowerCase();
    if (!meetsRule(signature, text, lower)) continue;
    if (!signature.pattern.test(text) || signature.unless?.test(text)) continue;
    const kind =
      signature.kind === 'metadata-server-error' && SIDECAR_REPLY.test(text)
        ? 'metadata-unreachable'
        : signature.kind;
    return { signature, kind };
  }
  return undefined;
}
