# One runtime identity per function, so each holds only what its own code needs.
resource "google_service_account" "function" {
  for_each = local.functions

  project      = var.project_id
  account_id   = substr("${local.prefix}-${lower(each.key)}", 0, 30)
  display_name = "wi-sentinel ${each.key}"
  description  = "Runtime identity of the ${each.key} function: ${each.value.description}"

  # A fresh project: the IAM API must be on before an identity can be created.
  depends_on = [google_project_service.api]
}

# The identity of the push subscriptions' OIDC tokens: it invokes the event functions (run.invoker only).
resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "${local.prefix}-trigger"
  display_name = "wi-sentinel Pub/Sub pushes"
  description  = "Invokes the wi-sentinel event functions for their Pub/Sub push subscriptions."

  depends_on = [google_project_service.api]
}

# Cloud Build runs the functions' builds as this identity instead of a broad default one.
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${local.prefix}-build"
  display_name = "wi-sentinel function builds"
  description  = "Builds the wi-sentinel functions from source (Cloud Build)."

  depends_on = [google_project_service.api]
}
