terraform {
  required_version = ">= 1.5"

  required_providers {
    # The floor is the first release with everything the module writes: 6.9.0 brought
    # alert_strategy.notification_prompts (monitoring.tf). 7.x is not admitted until the module is
    # checked against its schema (test/infra/schema.test.ts checks both ends of this range).
    google = {
      source  = "hashicorp/google"
      version = ">= 6.9.0, < 7.0.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4"
    }
  }
}
