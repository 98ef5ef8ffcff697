# The Log Router sinks, one per entry of local.sinks, at the scope chosen. Each filter is the file
# `wi-sentinel sink-filter --sink NAME` generates (a test keeps it in sync with the classifier).

resource "google_logging_project_sink" "sink" {
  for_each = local.project_sinks

  project                = each.value.project
  name                   = "${local.prefix}-${each.value.sink}"
  description            = local.sinks[each.value.sink].description
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.topic[local.sinks[each.value.sink].topic].id}"
  filter                 = trimspace(file("${path.module}/filters/${each.value.sink}.filter"))
  unique_writer_identity = true
}

resource "google_logging_organization_sink" "sink" {
  for_each = local.organization_sinks

  org_id           = var.organization_id
  name             = "${local.prefix}-${each.key}"
  description      = each.value.description
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.topic[each.value.topic].id}"
  filter           = trimspace(file("${path.module}/filters/${each.key}.filter"))
  include_children = var.include_children

  lifecycle {
    precondition {
      condition     = var.organization_id != null
      error_message = "scope organization needs organization_id."
    }
  }
}

resource "google_logging_folder_sink" "sink" {
  for_each = local.folder_sinks

  folder           = "folders/${var.folder_id}"
  name             = "${local.prefix}-${each.key}"
  description      = each.value.description
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.topic[each.value.topic].id}"
  filter           = trimspace(file("${path.module}/filters/${each.key}.filter"))
  include_children = var.include_children

  lifecycle {
    precondition {
      condition     = var.folder_id != null && var.organization_id != null
      error_message = "scope folder needs folder_id, and organization_id for the read-only custom role."
    }
  }
}
