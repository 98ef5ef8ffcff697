# Cloud Asset Inventory: the sweep searches the watched scope (its projects, service accounts,
# clusters and node pools, and the policies on service accounts and projects) in a few paged calls,
# instead of one IAM call per service account (shared/live/asset-export.ts). Without these grants
# the sweep reads every object directly, and its asset-inventory self-check says so.

locals {
  # What the sweep covers (WI_SCOPE): the folder or the organization; at project scope, WI_PROJECTS.
  scope_env = var.scope == "project" ? {} : {
    WI_SCOPE = var.scope == "folder" ? "folders/${var.folder_id}" : "organizations/${var.organization_id}"
  }
}

# The API is enabled with the others (apis.tf): it is called from wi-sentinel's own project, on its
# quota.

resource "google_project_iam_custom_role" "inventory_reader" {
  for_each = toset(var.scope == "project" ? local.watched_projects : [])

  project     = each.value
  role_id     = "${local.role_prefix}_inventory_reader"
  title       = "wi-sentinel inventory reader"
  description = "Searches Cloud Asset Inventory for the sweep: projects, service accounts, clusters, node pools and IAM policies."
  permissions = local.roles.inventory

  depends_on = [google_project_service.api]
}

resource "google_organization_iam_custom_role" "inventory_reader" {
  count = var.scope == "project" ? 0 : 1

  org_id      = var.organization_id
  role_id     = "${local.role_prefix}_inventory_reader"
  title       = "wi-sentinel inventory reader"
  description = "Searches Cloud Asset Inventory for the sweep, and lists the projects below a folder or the organization."
  # Reading an organization or folder directly (when the index cannot be used) lists its projects.
  permissions = concat(local.roles.inventory, local.roles.scope_list)

  depends_on = [google_project_service.api]
}

# reconcile: search Cloud Asset Inventory over each watched project (the sweep's inventory).
resource "google_project_iam_member" "inventory_reader" {
  for_each = toset(var.scope == "project" ? local.watched_projects : [])

  project = each.value
  role    = google_project_iam_custom_role.inventory_reader[each.value].name
  member  = google_service_account.function["reconcile"].member
}

# reconcile: search Cloud Asset Inventory over the organization, and list its projects to read them directly.
resource "google_organization_iam_member" "inventory_reader" {
  count = var.scope == "organization" ? 1 : 0

  org_id = var.organization_id
  role   = google_organization_iam_custom_role.inventory_reader[0].name
  member = google_service_account.function["reconcile"].member
}

# reconcile: search Cloud Asset Inventory over the folder, and list its projects to read them directly.
resource "google_folder_iam_member" "inventory_reader" {
  count = var.scope == "folder" ? 1 : 0

  folder = "folders/${var.folder_id}"
  role   = google_organization_iam_custom_role.inventory_reader[0].name
  member = google_service_account.function["reconcile"].member
}
