# The Slack and PagerDuty secrets, mounted into the functions as environment variables. Their values
# are best added out of Terraform (`gcloud secrets versions add`, see README) so they never sit in
# state; var.secret_values can create the first versions instead.
resource "google_secret_manager_secret" "secret" {
  for_each = local.secrets

  project   = var.project_id
  secret_id = "${local.prefix}-${replace(each.key, "_", "-")}"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}

resource "google_secret_manager_secret_version" "initial" {
  # Keys only: the values are sensitive, and for_each may not iterate over sensitive values.
  for_each = toset([for key in nonsensitive(keys(var.secret_values)) : key if contains(keys(local.secrets), key)])

  secret      = google_secret_manager_secret.secret[each.key].id
  secret_data = var.secret_values[each.key]
}

# The routing file (not secret, but mounted as a file the way Cloud Run mounts secrets).
resource "google_secret_manager_secret" "routes" {
  count = var.routes_yaml != null ? 1 : 0

  project   = var.project_id
  secret_id = "${local.prefix}-routes"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}

resource "google_secret_manager_secret_version" "routes" {
  count = var.routes_yaml != null ? 1 : 0

  secret      = google_secret_manager_secret.routes[0].id
  secret_data = var.routes_yaml
}
