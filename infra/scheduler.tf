# The periodic sweep: Cloud Scheduler publishes to the reconcile topic, which triggers reconcile.
# (Cloud Scheduler's own service agent publishes; no grant is needed.)
resource "google_cloud_scheduler_job" "reconcile" {
  project     = var.project_id
  region      = var.region
  name        = "${local.prefix}-reconcile"
  description = "wi-sentinel sweep: every watched Workload Identity link, the sink and the topic"
  schedule    = var.reconcile_schedule
  time_zone   = var.reconcile_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.topic["reconcile"].id
    data       = base64encode(jsonencode({ trigger = "schedule" }))
  }

  # A missed sweep is replaced by the next one: no long retrying.
  retry_config {
    retry_count = 1
  }

  depends_on = [google_project_service.api]
}
