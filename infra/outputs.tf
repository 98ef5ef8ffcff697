output "slash_command_url" {
  description = "Request URL of the /wi-status slash command and of the app's interactivity (the alert buttons): paste it into the Slack app (README: Slack app manifest)."
  value       = google_cloudfunctions2_function.function["wiStatus"].service_config[0].uri
}

output "pagerduty_webhook_url" {
  description = "URL of the PagerDuty v3 webhook subscription (incident.acknowledged, .unacknowledged, .resolved, .reassigned)."
  value       = google_cloudfunctions2_function.function["pagerdutyWebhook"].service_config[0].uri
}

output "topics" {
  description = "Pub/Sub topic names, by role (audit, reconcile, commands)."
  value       = { for key, topic in google_pubsub_topic.topic : key => topic.name }
}

output "dead_letter_topics" {
  description = "Dead-letter topic names, by role; each has a subscription of the same name to pull from, where messages go after max_delivery_attempts failed pushes."
  value       = { for key, topic in google_pubsub_topic.dead_letter : key => topic.name }
}

output "functions" {
  description = "Deployed function names, by functions-framework target."
  value       = { for key, fn in google_cloudfunctions2_function.function : key => fn.name }
}

output "service_accounts" {
  description = "Runtime service account emails, by function."
  value       = { for key, sa in google_service_account.function : key => sa.email }
}

output "sink_writer_identities" {
  description = "The writer identity of each sink parent and topic (PARENT/TOPIC), as granted publish on that topic: every sink of one parent shares it."
  value       = { for key, writer in local.sink_writers : key => writer.member }
}

output "secret_ids" {
  description = "Secret Manager secrets to add versions to (gcloud secrets versions add ID --data-file=-)."
  value       = { for key, secret in google_secret_manager_secret.secret : key => secret.secret_id }
}

output "firestore_database" {
  description = "The Firestore database holding wi-sentinel's state."
  value       = google_firestore_database.state.name
}

output "push_subscriptions" {
  description = "The push subscription of each event function, by functions-framework target: its dead-letter policy, retry policy and ack deadline are declared here."
  value       = { for key, subscription in google_pubsub_subscription.push : key => subscription.name }
}

output "sinks" {
  description = "Full names of the Log Router sinks (projects/P/sinks/N, folders/F/sinks/N or organizations/O/sinks/N), what reconcile's self-check reads."
  value = concat(
    [for sink in google_logging_project_sink.sink : sink.id],
    [for sink in google_logging_organization_sink.sink : sink.id],
    [for sink in google_logging_folder_sink.sink : sink.id],
  )
}

output "metadata_server_alert_policy" {
  description = "The metadata-server error-rate alert policy (projects/P/alertPolicies/ID), null when enable_metadata_server_alert is false."
  value       = try(google_monitoring_alert_policy.metadata_server[0].name, null)
}

output "notification_channel" {
  description = "The Monitoring notification channel that publishes the alert policy's incidents to the audit topic, null when enable_metadata_server_alert is false."
  value       = try(google_monitoring_notification_channel.pubsub[0].id, null)
}
