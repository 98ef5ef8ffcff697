# wi-sentinel's state: incidents, delivery records, processed entries, operations, silences.
resource "google_firestore_database" "state" {
  project                           = var.project_id
  name                              = var.firestore_database
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.firestore_deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = var.firestore_deletion_protection ? "ABANDON" : "DELETE"

  depends_on = [google_project_service.api]
}

# Processed-entry markers, operation records, symptom groups and remembered requests carry `expireAt`: TTL policies delete them, so
# the database does not grow with every audit entry (shared/incidents/firestore-store.ts).
resource "google_firestore_field" "ttl" {
  for_each = toset(["entries", "operations", "symptoms", "requests"])

  project    = var.project_id
  database   = google_firestore_database.state.name
  collection = each.value
  field      = "expireAt"

  ttl_config {}

  # A TTL field needs no single-field index: indexing a timestamp that only grows adds write cost.
  index_config {}
}
