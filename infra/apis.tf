locals {
  apis = [
    "artifactregistry.googleapis.com", # wi-sentinel's image repository, where Cloud Build pushes
    "cloudasset.googleapis.com",       # the sweep's searches of the watched scope (asset.tf)
    "cloudbuild.googleapis.com",       # builds the functions from source
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com", # project IAM policy reads
    "cloudscheduler.googleapis.com",       # the sweep
    "container.googleapis.com",            # GKE cluster and node pool reads
    "firestore.googleapis.com",            # incidents, delivery records, silences
    "iam.googleapis.com",                  # service account and policy reads
    "logging.googleapis.com",              # the sinks
    "monitoring.googleapis.com",           # the metadata-server alert policy and its channel
    "pubsub.googleapis.com",
    "run.googleapis.com", # Cloud Functions gen2 run on Cloud Run
    "secretmanager.googleapis.com",
  ]
}

resource "google_project_service" "api" {
  for_each = var.enable_apis ? toset(local.apis) : toset([])

  project = var.project_id
  service = each.value
  # Other workloads of the project may use the same APIs: destroying wi-sentinel leaves them on.
  disable_on_destroy = false
}
