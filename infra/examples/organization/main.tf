# wi-sentinel watching a whole organization from a dedicated tooling project: one organization sink
# (with every child project's audit logs) and read-only access across the organization.
#
#   terraform init
#   terraform apply -var project_id=acme-wi-sentinel -var organization_id=123456789012 \
#     -var 'watched_project_ids=["acme-prod","acme-staging"]' -var 'slack_channel=#platform-alerts'
#
# Whoever applies needs, besides project rights, roles/logging.configWriter,
# roles/iam.organizationRoleAdmin and roles/iam.securityAdmin on the organization (see the README).

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
  description = "The tooling project wi-sentinel runs in."
  type        = string
}

variable "organization_id" {
  description = "Numeric organization ID."
  type        = string
}

variable "watched_project_ids" {
  description = "Projects the sweep and /wi-status cover (audit events arrive from every project)."
  type        = list(string)
}

variable "slack_channel" {
  description = "Default Slack channel for alerts."
  type        = string
}

variable "routes_yaml" {
  description = "Optional routing file (YAML): per-namespace or per-cluster channels and PagerDuty services."
  type        = string
  default     = null
}

provider "google" {
  project = var.project_id
  region  = "europe-west1"
}

module "wi_sentinel" {
  source = "../.."

  project_id          = var.project_id
  region              = "europe-west1"
  scope               = "organization"
  organization_id     = var.organization_id
  include_children    = true
  watched_project_ids = var.watched_project_ids
  slack_channel       = var.slack_channel
  routes_yaml         = var.routes_yaml
  firestore_location  = "eur3"
  reconcile_schedule  = "*/10 * * * *"

  # The per-route PagerDuty key a routing file names with routingKeyEnv, from an existing secret.
  extra_secret_env = {
    PAGERDUTY_KEY_PAYMENTS = "pagerduty-payments-routing-key"
  }
}

output "slash_command_url" {
  description = "Paste into the Slack app's /wi-status command."
  value       = module.wi_sentinel.slash_command_url
}

output "topics" {
  description = "Pub/Sub topics by role."
  value       = module.wi_sentinel.topics
}
