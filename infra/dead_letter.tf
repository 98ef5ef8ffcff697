# Dead-letter policies for the subscriptions Eventarc creates. The provider cannot configure those
# subscriptions (hashicorp/terraform-provider-google#25069), so gcloud does it on the machine running
# Terraform, again whenever a trigger is recreated. With attach_dead_letter_policies = false, run the
# commands of the dead_letter_commands output instead.
resource "terraform_data" "dead_letter" {
  for_each = var.attach_dead_letter_policies ? local.event_functions : {}

  triggers_replace = [
    google_cloudfunctions2_function.function[each.key].event_trigger[0].trigger,
    google_pubsub_topic.dead_letter[each.value.topic].id,
    var.max_delivery_attempts,
  ]

  provisioner "local-exec" {
    command = "bash ${path.module}/scripts/attach-dead-letter.sh"
    environment = {
      TRIGGER               = google_cloudfunctions2_function.function[each.key].event_trigger[0].trigger
      DEAD_LETTER_TOPIC     = google_pubsub_topic.dead_letter[each.value.topic].id
      MAX_DELIVERY_ATTEMPTS = tostring(var.max_delivery_attempts)
      PUBSUB_SERVICE_AGENT  = local.pubsub_service_agent
    }
  }

  depends_on = [google_pubsub_topic_iam_member.dead_letter_publisher]
}
