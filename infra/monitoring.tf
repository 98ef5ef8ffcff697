# The metadata-server error rate (kubernetes.io/node/metadata_server/request_count, non-2xx above 1%
# of requests over 5 minutes, per cluster) as a Cloud Monitoring alert policy whose Pub/Sub channel
# publishes to the audit topic: auditEvents decodes the notifications (shared/events/monitoring.ts)
# and opens, then resolves, one incident per cluster. Monitoring evaluates every minute and keeps the
# incident's state itself, so no function queries metrics and no Monitoring client is loaded.

locals {
  # What the code declares (METADATA_SERVER_ALERT_POLICY): the PromQL condition and the user label
  # the decoder recognises. Generated: `npx node test/infra/generated.ts`; a test keeps it in sync.
  metadata_alert = jsondecode(file("${path.module}/generated/metadata-server-alert.json"))

  monitoring_notification_agent = "service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"

  # A policy sees the metrics of its project's metrics scope only: the other watched projects join it.
  monitored_projects = (var.enable_metadata_server_alert && var.add_watched_projects_to_metrics_scope
    ? toset([for project in local.watched_projects : project if project != var.project_id])
  : toset([]))
}

resource "google_monitoring_notification_channel" "pubsub" {
  count = var.enable_metadata_server_alert ? 1 : 0

  project      = var.project_id
  display_name = "wi-sentinel (${local.topics.audit})"
  description  = "Publishes Monitoring incidents to wi-sentinel's audit topic, where auditEvents reads them."
  type         = "pubsub"
  labels       = { topic = google_pubsub_topic.topic["audit"].id }
  user_labels  = local.labels

  depends_on = [google_project_service.api]
}

resource "google_monitoring_monitored_project" "watched" {
  for_each = local.monitored_projects

  metrics_scope = "locations/global/metricsScopes/${var.project_id}"
  name          = each.value

  depends_on = [google_project_service.api]
}

resource "google_monitoring_alert_policy" "metadata_server" {
  count = var.enable_metadata_server_alert ? 1 : 0

  project      = var.project_id
  display_name = local.metadata_alert.displayName
  combiner     = local.metadata_alert.combiner
  severity     = local.metadata_alert.severity
  # The decoder tells this policy's notifications by their user label, so the code's labels win.
  user_labels           = merge(local.labels, local.metadata_alert.userLabels)
  notification_channels = [google_monitoring_notification_channel.pubsub[0].id]

  dynamic "conditions" {
    for_each = local.metadata_alert.conditions
    content {
      display_name = conditions.value.displayName
      condition_prometheus_query_language {
        query               = conditions.value.conditionPrometheusQueryLanguage.query
        duration            = conditions.value.conditionPrometheusQueryLanguage.duration
        evaluation_interval = conditions.value.conditionPrometheusQueryLanguage.evaluationInterval
      }
    }
  }

  alert_strategy {
    auto_close = local.metadata_alert.alertStrategy.autoClose
    # wi-sentinel resolves its incident when Monitoring closes its own: it must hear of both.
    notification_prompts = try(local.metadata_alert.alertStrategy.notificationPrompts, ["OPENED", "CLOSED"])
  }

  documentation {
    subject   = "GKE metadata server errors above 1% in a cluster"
    mime_type = "text/markdown"
    content   = <<-EOT
      The GKE metadata server of one cluster answered more than 1% of its requests with an error over
      the last 5 minutes: pods on its nodes are failing to get Google credentials, or will soon.

      wi-sentinel receives this incident on its audit topic, opens a `metadata-server-errors` incident
      for the cluster in Slack and PagerDuty, and resolves it when this incident closes.

      What to do:
      1. `/wi-status CLUSTER` in Slack: node pools off `GKE_METADATA`, open incidents (a binding
         removed, a GSA deleted or disabled make the metadata server answer 403 and 404).
      2. Which answers: chart this metric by `response_code`. 403/404 point at IAM (a binding or a
         GSA); 5xx and timeouts at the metadata server itself or its node.
      3. The metadata server pods:
         `kubectl -n kube-system get pods -l k8s-app=gke-metadata-server -o wide` (restarts,
         OOMKilled), then their logs:
         `kubectl -n kube-system logs -l k8s-app=gke-metadata-server --since=15m --prefix`.
      4. One KSA's whole chain: `/wi-status NAMESPACE/KSA --cluster CLUSTER`.
    EOT
  }

  depends_on = [google_monitoring_monitored_project.watched]
}
