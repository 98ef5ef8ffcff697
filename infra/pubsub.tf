# The three topics and their dead-letter twins. Retention on the topics lets an operator seek a
# subscription back and replay after an outage; the dead-letter subscriptions keep what could not be
# delivered for inspection (`gcloud pubsub subscriptions pull`), instead of losing it.
resource "google_pubsub_topic" "topic" {
  for_each = local.topics

  project                    = var.project_id
  name                       = each.value
  message_retention_duration = var.message_retention
  labels                     = local.labels

  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.topics

  project                    = var.project_id
  name                       = "${each.value}-dead-letter"
  message_retention_duration = var.message_retention
  labels                     = local.labels

  depends_on = [google_project_service.api]
}

resource "google_pubsub_subscription" "dead_letter" {
  for_each = local.topics

  project                    = var.project_id
  name                       = "${each.value}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = var.message_retention
  ack_deadline_seconds       = 60
  labels                     = local.labels

  # Never expire for inactivity: dead letters are rare, so the subscription is rarely read.
  expiration_policy {
    ttl = ""
  }
}
