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

# Each event function's push subscription, owned here rather than hidden behind an Eventarc trigger, so
# everything about delivery is declared and applied by Terraform alone:
# - the push carries an OIDC token of the push identity, the one identity that may invoke the function;
# - the endpoint's path names the topic (/projects/P/topics/T), which functions-framework turns into the
#   CloudEvent's source when it converts the raw push;
# - the ack deadline is the function's timeout: Pub/Sub waits as long as the function may run before it
#   pushes again (at most 600 s: https://cloud.google.com/pubsub/docs/push#ack_deadline);
# - a failed push (the function failed for something a retry can cure) is retried with exponential
#   backoff, and after max_delivery_attempts the message moves to the topic's dead-letter twin instead
#   of being retried forever or dropped.
resource "google_pubsub_subscription" "push" {
  for_each = local.event_functions

  project                    = var.project_id
  name                       = "${each.value.name}-push"
  topic                      = google_pubsub_topic.topic[each.value.topic].id
  ack_deadline_seconds       = each.value.timeout
  message_retention_duration = var.message_retention
  labels                     = local.labels

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.function[each.key].service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.topic[each.value.topic].name}"

    oidc_token {
      service_account_email = google_service_account.trigger.email
      # Cloud Run accepts a token whose audience is the service's URL.
      audience = google_cloudfunctions2_function.function[each.key].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.value.topic].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  # Never expire for inactivity: the commands topic can be quiet for longer than the default 31 days.
  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.trigger_invoker,
    google_service_account_iam_member.pubsub_token_creator,
    google_pubsub_topic_iam_member.dead_letter_publisher,
  ]
}
