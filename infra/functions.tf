# The four functions (functions/index.ts registers them by these names): three fed by their own Pub/Sub
# push subscriptions (pubsub.tf), and wiStatus, the HTTP endpoint of the /wi-status slash command. None
# has an Eventarc trigger: a trigger's subscription is Eventarc's, and the provider cannot give it a
# dead-letter policy (hashicorp/terraform-provider-google#25069). functions-framework serves a raw
# Pub/Sub push to a cloudEvent function as the CloudEvent a trigger would have delivered.
resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  project     = var.project_id
  location    = var.region
  name        = each.value.name
  description = each.value.description
  labels      = local.labels

  build_config {
    runtime         = "nodejs22"
    entry_point     = each.key
    service_account = google_service_account.build.id
    # wi-sentinel's own repository, so the build identity may push to it and nowhere else.
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.function[each.key].email
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    max_instance_request_concurrency = each.value.concurrency
    timeout_seconds                  = each.value.timeout
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    # Event functions are only reached by their push subscriptions (Pub/Sub in the same project counts as
    # internal); Slack calls wiStatus from the internet.
    ingress_settings               = each.value.topic == null ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = merge(local.common_env, each.value.routes ? local.routes_env : {})

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = local.secrets[secret_environment_variables.value]
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }

    dynamic "secret_environment_variables" {
      for_each = each.value.extra_secrets ? var.extra_secret_env : {}
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }

    dynamic "secret_volumes" {
      for_each = each.value.routes && var.routes_yaml != null ? [1] : []
      content {
        mount_path = local.routes_mount_dir
        project_id = var.project_id
        secret     = google_secret_manager_secret.routes[0].secret_id
        versions {
          version = "latest"
          path    = "routes.yaml"
        }
      }
    }
  }

  depends_on = [
    google_project_iam_member.build_logs,
    google_project_iam_member.build_sources,
    google_artifact_registry_repository_iam_member.build_images,
    google_secret_manager_secret_iam_member.accessor,
    google_secret_manager_secret_iam_member.extra_accessor,
    google_secret_manager_secret_iam_member.routes_accessor,
    google_secret_manager_secret_version.initial,
    google_secret_manager_secret_version.routes,
  ]
}

# Where Cloud Build pushes the functions' images (instead of the project-wide gcf-artifacts repository),
# so the build identity's write access stops at wi-sentinel's images.
resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "${local.prefix}-functions"
  description   = "wi-sentinel: the images of its Cloud Functions, built by Cloud Build from the source archive"
  format        = "DOCKER"
  labels        = local.labels

  depends_on = [google_project_service.api]
}
