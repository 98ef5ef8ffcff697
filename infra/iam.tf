# Least privilege: every grant below names who gets what and why, in one line. No identity here can
# change IAM, and every read of GKE, IAM and Kubernetes objects goes through the custom roles below,
# narrower than the predefined viewer roles (roles/container.viewer also reads ConfigMaps, Secrets'
# metadata, every workload kind; roles/iam.securityReviewer reads every policy in the scope).

locals {
  # The permissions of each custom role, generated from the code's own lists (shared/gcp/permissions.ts:
  # READ_PERMISSIONS and the self-checks' reads), so the roles hold exactly the reads the code makes.
  # `npx wi-sentinel permissions --role NAME` prints one; test/infra/generated.test.ts keeps the file in sync.
  roles = jsondecode(file("${path.module}/generated/roles.json"))

  reader_grants = {
    for pair in setproduct(keys(local.reader_functions), var.scope == "project" ? local.watched_projects : []) :
    "${pair[0]}/${pair[1]}" => { fn = pair[0], project = pair[1] }
  }
  reader_org_role      = var.scope == "project" ? null : google_organization_iam_custom_role.reader[0].name
  sink_viewer_org_role = var.scope == "project" ? null : google_organization_iam_custom_role.sink_viewer[0].name
}

# ----------------------------------------------------------------- custom roles

resource "google_project_iam_custom_role" "reader" {
  for_each = toset(var.scope == "project" ? local.watched_projects : [])

  project     = each.value
  role_id     = "${local.role_prefix}_reader"
  title       = "wi-sentinel reader"
  description = "Read-only: GKE clusters, the Kubernetes objects of Workload Identity, service accounts and IAM policies."
  permissions = local.roles.reader

  depends_on = [google_project_service.api]
}

resource "google_project_iam_custom_role" "sink_viewer" {
  for_each = toset(var.scope == "project" ? local.watched_projects : [])

  project     = each.value
  role_id     = "${local.role_prefix}_sink_viewer"
  title       = "wi-sentinel self-check viewer"
  description = "Reads log sinks, log entries and metric descriptors, so wi-sentinel can check its sink, that audit entries arrive and that its metadata-server alert can fire."
  permissions = local.roles.self_check

  depends_on = [google_project_service.api]
}

resource "google_organization_iam_custom_role" "reader" {
  count = var.scope == "project" ? 0 : 1

  org_id      = var.organization_id
  role_id     = "${local.role_prefix}_reader"
  title       = "wi-sentinel reader"
  description = "Read-only: GKE clusters, the Kubernetes objects of Workload Identity, service accounts and IAM policies."
  permissions = local.roles.reader

  lifecycle {
    precondition {
      condition     = var.organization_id != null
      error_message = "scope ${var.scope} needs organization_id: the read-only custom role is an organization role."
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_organization_iam_custom_role" "sink_viewer" {
  count = var.scope == "project" ? 0 : 1

  org_id      = var.organization_id
  role_id     = "${local.role_prefix}_sink_viewer"
  title       = "wi-sentinel self-check viewer"
  description = "Reads log sinks, log entries and metric descriptors, so wi-sentinel can check its sink, that audit entries arrive and that its metadata-server alert can fire."
  permissions = local.roles.self_check

  depends_on = [google_project_service.api]
}

resource "google_project_iam_custom_role" "topic_policy_viewer" {
  project     = var.project_id
  role_id     = "${local.role_prefix}_topic_policy_viewer"
  title       = "wi-sentinel topic policy viewer"
  description = "Reads a topic's IAM policy, so wi-sentinel can check its sink may still publish."
  permissions = local.roles.topic_policy

  depends_on = [google_project_service.api]
}

# ----------------------------------------------------------------- live reads

# auditEvents, reconcile, wiCommands: read GKE, Kubernetes and IAM state in each watched project.
resource "google_project_iam_member" "reader" {
  for_each = local.reader_grants

  project = each.value.project
  role    = google_project_iam_custom_role.reader[each.value.project].name
  member  = google_service_account.function[each.value.fn].member
}

# auditEvents, reconcile, wiCommands: read GKE, Kubernetes and IAM state in every project of the organization.
resource "google_organization_iam_member" "reader" {
  for_each = var.scope == "organization" ? local.reader_functions : {}

  org_id = var.organization_id
  role   = local.reader_org_role
  member = google_service_account.function[each.key].member
}

# auditEvents, reconcile, wiCommands: read GKE, Kubernetes and IAM state in every project of the folder.
resource "google_folder_iam_member" "reader" {
  for_each = var.scope == "folder" ? local.reader_functions : {}

  folder = "folders/${var.folder_id}"
  role   = local.reader_org_role
  member = google_service_account.function[each.key].member
}

# ----------------------------------------------------------------- reconcile's self-checks

# reconcile: read the audit sink and the audit entries of each watched project (sinks.get, logEntries.list).
resource "google_project_iam_member" "sink_viewer" {
  for_each = toset(var.scope == "project" ? local.watched_projects : [])

  project = each.value
  role    = google_project_iam_custom_role.sink_viewer[each.value].name
  member  = google_service_account.function["reconcile"].member
}

# reconcile: read the organization's audit sink, and audit entries of the projects below it.
resource "google_organization_iam_member" "sink_viewer" {
  count = var.scope == "organization" ? 1 : 0

  org_id = var.organization_id
  role   = local.sink_viewer_org_role
  member = google_service_account.function["reconcile"].member
}

# reconcile: read the folder's audit sink, and audit entries of the projects below it.
resource "google_folder_iam_member" "sink_viewer" {
  count = var.scope == "folder" ? 1 : 0

  folder = "folders/${var.folder_id}"
  role   = local.sink_viewer_org_role
  member = google_service_account.function["reconcile"].member
}

# reconcile: read the audit topic's policy, to see the sink writers may still publish (this topic only).
resource "google_pubsub_topic_iam_member" "topic_policy_viewer" {
  project = var.project_id
  topic   = google_pubsub_topic.topic["audit"].name
  role    = google_project_iam_custom_role.topic_policy_viewer.name
  member  = google_service_account.function["reconcile"].member
}

# ----------------------------------------------------------------- state, commands, secrets

# Every function: incidents, delivery records and silences in wi-sentinel's own database only.
resource "google_project_iam_member" "firestore" {
  for_each = local.functions

  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.function[each.key].member

  condition {
    title       = "wi-sentinel database only"
    description = "Firestore access limited to the ${google_firestore_database.state.name} database."
    expression  = "resource.name == \"projects/${var.project_id}/databases/${google_firestore_database.state.name}\""
  }
}

# wiStatus: hand long /wi-status commands to wiCommands (publish on the commands topic only).
resource "google_pubsub_topic_iam_member" "commands_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.topic["commands"].name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.function["wiStatus"].member
}

# Each function: read the secrets it mounts, one grant per secret (not project-wide).
resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = local.secret_mounts

  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.value.fn].member
}

# Notifying functions: read the per-route PagerDuty keys of var.extra_secret_env.
resource "google_secret_manager_secret_iam_member" "extra_accessor" {
  for_each = local.extra_secret_mounts

  project   = var.project_id
  secret_id = each.value.secret
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.value.fn].member
}

# auditEvents, reconcile: read the routing file.
resource "google_secret_manager_secret_iam_member" "routes_accessor" {
  for_each = local.routes_mounts

  project   = var.project_id
  secret_id = google_secret_manager_secret.routes[0].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.key].member
}

# ----------------------------------------------------------------- delivery

# Log Router: the writer identity of each sink parent may publish to its sinks' topic (and nothing else).
# One grant per parent and topic, never per sink: see local.sink_writers.
resource "google_pubsub_topic_iam_member" "sink_writer" {
  for_each = local.sink_writers

  project = var.project_id
  topic   = google_pubsub_topic.topic[each.value.topic].name
  role    = "roles/pubsub.publisher"
  member  = each.value.member
}

# Monitoring's notification service agent: publish the metadata-server alert's notifications (audit topic only).
resource "google_pubsub_topic_iam_member" "monitoring_publisher" {
  count = var.enable_metadata_server_alert ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.topic["audit"].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.monitoring_notification_agent}"

  # Monitoring creates its notification service agent with the project's first Pub/Sub channel.
  depends_on = [google_project_service.api, google_monitoring_notification_channel.pubsub]
}

# Push identity: Pub/Sub pushes each topic's messages to its event function (invoke that function only).
resource "google_cloud_run_v2_service_iam_member" "trigger_invoker" {
  for_each = local.event_functions

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.trigger.member
}

# Slack: call /wi-status from the internet; wiStatus authenticates every request by Slack's signature.
resource "google_cloud_run_v2_service_iam_member" "status_public" {
  count = var.status_allow_all_users ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function["wiStatus"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# PagerDuty: deliver webhooks from the internet; pagerdutyWebhook authenticates each by its signature.
resource "google_cloud_run_v2_service_iam_member" "pagerduty_webhook_public" {
  count = var.status_allow_all_users ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function["pagerdutyWebhook"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Pub/Sub service agent: sign the OIDC tokens of pushes as the push identity (that account only).
resource "google_service_account_iam_member" "pubsub_token_creator" {
  service_account_id = google_service_account.trigger.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${local.pubsub_service_agent}"

  # Enabling the Pub/Sub API creates its service agent.
  depends_on = [google_project_service.api]
}

# Pub/Sub service agent: move undeliverable messages to the dead-letter topics (those topics only).
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.topics

  project = var.project_id
  topic   = google_pubsub_topic.dead_letter[each.key].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.pubsub_service_agent}"

  depends_on = [google_project_service.api]
}

# Pub/Sub service agent: acknowledge on the push subscriptions what it forwards to a dead-letter topic.
resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = local.event_functions

  project      = var.project_id
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${local.pubsub_service_agent}"

  depends_on = [google_project_service.api]
}

# ----------------------------------------------------------------- builds

# Function builds: write their build logs.
resource "google_project_iam_member" "build_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

# Function builds: fetch the sources from gcf-v2-sources-NUMBER-REGION (that bucket only), where Cloud Functions copies them.
resource "google_project_iam_member" "build_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = google_service_account.build.member

  # Cloud Functions creates that bucket on its first deployment in the region, so the grant is made
  # on the project, limited by a condition to the bucket and its objects: a grant on the bucket itself
  # could not be made before it exists. The module's own upload bucket is not read by the build.
  condition {
    title       = "Cloud Functions sources bucket only"
    description = "The bucket Cloud Functions copies function sources into for Cloud Build."
    expression  = "resource.name == \"${local.sources_bucket}\" || resource.name.startsWith(\"${local.sources_bucket}/\")"
  }
}

# Function builds: push the built images to wi-sentinel's own Artifact Registry repository (that repository only).
resource "google_artifact_registry_repository_iam_member" "build_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}
