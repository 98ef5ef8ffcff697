variable "project_id" {
  description = "Project wi-sentinel runs in: its functions, topics, Firestore database and secrets."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 lower-case letters, digits or hyphens)."
  }
}

variable "region" {
  description = "Region of the functions, their image repository, the scheduler job and the source bucket."
  type        = string
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Cloud Functions region such as us-central1 or europe-west1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name; the default gives the topics wi-sentinel-audit, wi-sentinel-reconcile and wi-sentinel-commands that the code expects by default."
  type        = string
  default     = "wi-sentinel"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 4-20 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "scope" {
  description = "Where audit logs are collected and live state is read: project (each of watched_project_ids), folder (folder_id and its children) or organization (organization_id and its children)."
  type        = string
  default     = "project"

  validation {
    condition     = contains(["project", "folder", "organization"], var.scope)
    error_message = "scope must be project, folder or organization."
  }
}

variable "organization_id" {
  description = "Numeric organization ID. Required for scope organization and folder (the read-only custom role lives in the organization)."
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^[0-9]{6,25}$", var.organization_id))
    error_message = "organization_id must be the numeric organization ID."
  }
}

variable "folder_id" {
  description = "Numeric folder ID. Required for scope folder."
  type        = string
  default     = null

  validation {
    condition     = var.folder_id == null || can(regex("^[0-9]{6,25}$", var.folder_id))
    error_message = "folder_id must be the numeric folder ID, without the folders/ prefix."
  }
}

variable "include_children" {
  description = "For folder and organization sinks: also route the audit logs of every project below (almost always what you want)."
  type        = bool
  default     = true
}

variable "watched_project_ids" {
  description = "Projects the sweep and /wi-status cover (WI_PROJECTS). With scope project, each also gets a sink and the read-only role. Empty: project_id alone."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.watched_project_ids : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", id))])
    error_message = "watched_project_ids must be project IDs."
  }
}

variable "enable_workload_sink" {
  description = "Create the workload-log sink (filters/workload.filter): container log lines with a credential-failure signature and the gke-metadata-server pods' errors, delivered to the audit topic. Narrow by design; see the README's cost notes."
  type        = bool
  default     = true
}

variable "enable_metadata_server_alert" {
  description = "Create the Cloud Monitoring alert policy on the GKE metadata server's error rate, its Pub/Sub notification channel to the audit topic, and the grant that lets Monitoring publish there."
  type        = bool
  default     = true
}

variable "add_watched_projects_to_metrics_scope" {
  description = "Add each watched project other than project_id to project_id's Cloud Monitoring metrics scope, so the metadata-server alert sees their clusters. Turn off when the scope is managed elsewhere; the alert then covers the projects already in it."
  type        = bool
  default     = true
}

variable "slack_channel" {
  description = "Default Slack channel for alerts (SLACK_CHANNEL), e.g. #platform-alerts or a channel ID; routes can send elsewhere."
  type        = string

  validation {
    condition     = can(regex("^(#[a-z0-9._-]{1,80}|[CG][A-Z0-9]{8,})$", var.slack_channel))
    error_message = "slack_channel must be #name (lower case) or a channel ID (C…)."
  }
}

variable "slack_allowed_users" {
  description = "Slack user IDs (U…, W…) who may silence and unsilence from /wi-status (SLACK_ALLOWED_USERS)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.slack_allowed_users : can(regex("^[UW][A-Z0-9]{2,}$", id))])
    error_message = "slack_allowed_users must be Slack user IDs (U…, W…)."
  }
}

variable "slack_allowed_usergroup" {
  description = "A Slack user group ID (S…) whose members may silence and unsilence (SLACK_ALLOWED_USERGROUP; the bot needs usergroups:read)."
  type        = string
  default     = null

  validation {
    condition     = var.slack_allowed_usergroup == null || can(regex("^S[A-Z0-9]{2,}$", var.slack_allowed_usergroup))
    error_message = "slack_allowed_usergroup must be a Slack user group ID (S…)."
  }
}

variable "enable_pagerduty" {
  description = "Create the PagerDuty routing-key secret and mount it (PAGERDUTY_ROUTING_KEY). Without it, alerts go to Slack only."
  type        = bool
  default     = true
}

variable "secret_values" {
  description = "Optional first versions of the secrets (slack_bot_token, slack_signing_secret, pagerduty_routing_key, pagerduty_webhook_secret). They then live in Terraform state: prefer adding versions with gcloud (see README) and leaving this empty."
  type        = map(string)
  default     = {}
  sensitive   = true

  validation {
    condition     = alltrue([for key in keys(var.secret_values) : contains(["slack_bot_token", "slack_signing_secret", "pagerduty_routing_key", "pagerduty_webhook_secret"], key)])
    error_message = "secret_values keys must be slack_bot_token, slack_signing_secret, pagerduty_routing_key or pagerduty_webhook_secret."
  }
}

variable "extra_secret_env" {
  description = "More secrets to mount on the notifying functions, environment variable => existing Secret Manager secret ID in project_id: the per-route PagerDuty keys a routing file names with routingKeyEnv."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.extra_secret_env) : can(regex("^[A-Z][A-Z0-9_]*$", name))])
    error_message = "extra_secret_env keys must be environment variable names (upper case, digits, _)."
  }
}

variable "routes_yaml" {
  description = "Routing file (WI_ROUTES) as YAML text; kept as a Secret Manager secret and mounted as a file. Null: every alert goes to slack_channel and the default PagerDuty key."
  type        = string
  default     = null
}

variable "firestore_database" {
  description = "Firestore database ID to create for wi-sentinel's state (a dedicated database keeps its data and access apart)."
  type        = string
  default     = "wi-sentinel"

  validation {
    condition     = var.firestore_database == "(default)" || can(regex("^[a-z][a-z0-9-]{2,61}[a-z0-9]$", var.firestore_database))
    error_message = "firestore_database must be 4-63 lower-case letters, digits or hyphens, or (default)."
  }
}

variable "firestore_location" {
  description = "Firestore location (a region such as us-central1, or a multi-region such as nam5 or eur3)."
  type        = string
  default     = "nam5"
}

variable "firestore_deletion_protection" {
  description = "Protect the Firestore database from deletion (incident history lives there)."
  type        = bool
  default     = true
}

variable "reconcile_schedule" {
  description = "Cron schedule of the full sweep (Cloud Scheduler syntax)."
  type        = string
  default     = "*/15 * * * *"

  validation {
    condition     = length(split(" ", trimspace(var.reconcile_schedule))) == 5
    error_message = "reconcile_schedule must be a five-field cron expression."
  }
}

variable "reconcile_time_zone" {
  description = "Time zone of reconcile_schedule (tz database name)."
  type        = string
  default     = "Etc/UTC"
}

variable "status_min_instances" {
  description = "Warm instances of wiStatus. Slack drops a slash command not answered within 3 seconds, which a cold start can miss."
  type        = number
  default     = 1

  validation {
    condition     = var.status_min_instances >= 1 && var.status_min_instances <= 10
    error_message = "status_min_instances must be between 1 and 10: at 0 a cold start can miss Slack's 3-second deadline."
  }
}

variable "status_allow_all_users" {
  description = "Grant roles/run.invoker on wiStatus to allUsers (Slack cannot authenticate to Google; wiStatus checks every request's Slack signature). Organizations that enforce domain-restricted sharing (constraints/iam.allowedPolicyMemberDomains) refuse that grant: set false and turn off the invoker IAM check of wiStatus's service instead (README: Domain-restricted sharing)."
  type        = bool
  default     = true
}

variable "audit_max_instances" {
  description = "Upper bound on auditEvents instances (each handles several deliveries at once); caps cost during an audit-log storm."
  type        = number
  default     = 10

  validation {
    condition     = var.audit_max_instances >= 1 && var.audit_max_instances <= 100
    error_message = "audit_max_instances must be between 1 and 100."
  }
}

variable "message_retention" {
  description = "How long the topics and dead-letter subscriptions keep messages (seek and replay after an outage), as seconds with an s suffix."
  type        = string
  default     = "604800s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.message_retention)) && try(tonumber(trimsuffix(var.message_retention, "s")) >= 600 && tonumber(trimsuffix(var.message_retention, "s")) <= 2678400, false)
    error_message = "message_retention must be between 600s (10 minutes) and 2678400s (31 days)."
  }
}

variable "max_delivery_attempts" {
  description = "Pushes of one message to its event function (retried with backoff from 10 s to 10 min) before it goes to the dead-letter topic."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's bounds)."
  }
}

variable "source_dir" {
  description = "The wi-sentinel repository to deploy (package.json, package-lock.json, functions/, shared/). Null: the repository this module sits in."
  type        = string
  default     = null
}

variable "enable_apis" {
  description = "Enable the Google APIs wi-sentinel needs in project_id. Turn off where a platform pipeline manages services."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels added to every resource that takes them."
  type        = map(string)
  default     = {}
}
