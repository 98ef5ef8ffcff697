# wi-sentinel watching one project (or a few), deployed into the first of them.
#
#   terraform init
#   terraform apply -var project_id=acme-prod -var 'slack_channel=#platform-alerts'
#
# Then add the secret versions (README: Secrets) and paste the slash_command_url output into the
# Slack app.

terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.9.0, < 7.0.0"
    }
  }
}

variable "project_id" {
  description = "The project to watch and to run wi-sentinel in."
  type        = string
}

variable "region" {
  description = "Region of the functions."
  type        = string
  default     = "us-central1"
}

variable "slack_channel" {
  description = "Default Slack channel for alerts."
  type        = string
}

provider "google" {
  project = var.project_id
  region  = var.region
}

module "wi_sentinel" {
  source = "../.."

  project_id    = var.project_id
  region        = var.region
  scope         = "project"
  slack_channel = var.slack_channel
}

output "slash_command_url" {
  description = "Paste into the Slack app's /wi-status command."
  value       = module.wi_sentinel.slash_command_url
}

output "secret_ids" {
  description = "Secrets to add versions to."
  value       = module.wi_sentinel.secret_ids
}
