terraform {
  required_version = ">= 1.5"

  required_providers {
    # 6.x: build_config.service_account on Cloud Functions gen2, auto replication for secrets.
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4"
    }
  }
}
