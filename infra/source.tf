# What Cloud Functions builds: the package manifest and lock, the TypeScript configuration and the
# sources of the functions. Cloud Build runs `npm ci` and the `gcp-build` script (`npm run build`),
# which compiles them into dist/, the package's `main`.
data "archive_file" "source" {
  type        = "zip"
  source_dir  = local.source_dir
  output_path = "${path.root}/.terraform/wi-sentinel-source.zip"
  excludes = [
    ".ci",
    ".git",
    ".terraform",
    "bench",
    "bin",
    "cli",
    "dist",
    "infra",
    "node_modules",
    "scripts",
    "test",
  ]
}

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = "${var.project_id}-${local.prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = local.labels

  # Old source archives serve no purpose once a newer one is deployed.
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_storage_bucket_object" "source" {
  # Named by content, so a changed source makes a new object and a redeploy.
  name   = "source-${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}
