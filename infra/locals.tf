locals {
  prefix           = var.name_prefix
  role_prefix      = replace(var.name_prefix, "-", "_")
  watched_projects = length(var.watched_project_ids) > 0 ? distinct(var.watched_project_ids) : [var.project_id]
  source_dir       = coalesce(var.source_dir, abspath("${path.module}/.."))
  labels           = merge({ app = "wi-sentinel" }, var.labels)

  # The topics the code names (WI_COMMANDS_TOPIC defaults to the commands one); each has a dead-letter twin.
  topics = {
    audit     = "${local.prefix}-audit"
    reconcile = "${local.prefix}-reconcile"
    commands  = "${local.prefix}-commands"
  }

  # Log Router sinks by name: each has a generated filter in filters/NAME.filter (`wi-sentinel
  # sink-filter --sink NAME`) and the topic it delivers to. A new sink is one more entry here.
  sinks = {
    audit = {
      topic       = "audit"
      description = "wi-sentinel: Admin Activity audit entries that can break GKE Workload Identity"
      enabled     = true
    }
    # What workloads feel: container log lines carrying a credential-failure signature and the
    # gke-metadata-server pods' errors (shared/symptoms/filter.ts). Same topic: auditEvents tells a
    # container entry from an audit entry, so the pipeline needs no second function.
    workload = {
      topic       = "audit"
      description = "wi-sentinel: workload credential failures (token, 403, metadata server) in container logs"
      enabled     = var.enable_workload_sink
    }
  }
  enabled_sinks = { for name, sink in local.sinks : name => sink if sink.enabled }

  # The audit sink as reconcile's self-check names it (WI_SINK): a bare name is that sink in each
  # watched project (project scope); folder and organization sinks are named in full.
  audit_sink_name = (var.scope == "project" ? "${local.prefix}-audit"
    : var.scope == "folder" ? "folders/${var.folder_id}/sinks/${local.prefix}-audit"
  : "organizations/${var.organization_id}/sinks/${local.prefix}-audit")

  # The secrets wi-sentinel reads, by key: the environment variable each is mounted as.
  secrets = merge(
    {
      slack_bot_token      = "SLACK_BOT_TOKEN"
      slack_signing_secret = "SLACK_SIGNING_SECRET"
    },
    var.enable_pagerduty ? { pagerduty_routing_key = "PAGERDUTY_ROUTING_KEY" } : {},
  )

  notify_secrets = concat(["slack_bot_token"], var.enable_pagerduty ? ["pagerduty_routing_key"] : [])

  # One entry per function, by functions-framework target. `topic` null means HTTP. `reads`: live
  # GKE / IAM / Kubernetes reads (the read-only custom role). `secrets`: keys of local.secrets.
  # `extra_secrets`: mounts var.extra_secret_env. `routes`: mounts the routing file.
  functions = {
    auditEvents = {
      name          = "${local.prefix}-audit-events"
      description   = "Judges each audit-log entry of the audit sink; opens, updates and resolves incidents."
      topic         = "audit"
      reads         = true
      secrets       = local.notify_secrets
      extra_secrets = true
      routes        = true
      memory        = "512Mi"
      cpu           = "1"
      concurrency   = 8
      timeout       = 120
      min_instances = 0
      max_instances = var.audit_max_instances
    }
    reconcile = {
      name          = "${local.prefix}-reconcile"
      description   = "The scheduled sweep: drift, self-checks of the sink and topic, auto-resolution."
      topic         = "reconcile"
      reads         = true
      secrets       = local.notify_secrets
      extra_secrets = true
      routes        = true
      memory        = "1Gi"
      cpu           = "1"
      concurrency   = 1
      timeout       = 540
      min_instances = 0
      max_instances = 1
    }
    # wiCommands holds the bot token for the permission check against Slack (usergroups.users.list).
    wiCommands = {
      name          = "${local.prefix}-command-runner"
      description   = "Runs deferred /wi-status commands (live checks) and answers at Slack's response_url."
      topic         = "commands"
      reads         = true
      secrets       = ["slack_bot_token"]
      extra_secrets = false
      routes        = false
      memory        = "512Mi"
      cpu           = "1"
      concurrency   = 4
      timeout       = 120
      min_instances = 0
      max_instances = 5
    }
    # wiStatus answers from stored state and defers the rest: the signing secret is all it reads.
    wiStatus = {
      name          = "${local.prefix}-status"
      description   = "The /wi-status slash command: verifies Slack's signature, answers from stored state or defers."
      topic         = null
      reads         = false
      secrets       = ["slack_signing_secret"]
      extra_secrets = false
      routes        = false
      memory        = "256Mi"
      cpu           = "1"
      concurrency   = 16
      timeout       = 30
      min_instances = var.status_min_instances
      max_instances = 5
    }
  }

  event_functions = { for key, fn in local.functions : key => fn if fn.topic != null }
  reader_functions = { for key, fn in local.functions : key => fn if fn.reads }

  # Configuration every function reads (shared/config.ts); secrets are mounted separately.
  common_env = merge(
    {
      # functions-framework and express answer without stack traces or file paths only in production.
      NODE_ENV              = "production"
      WI_STATE              = "firestore"
      GOOGLE_CLOUD_PROJECT  = var.project_id
      WI_FIRESTORE_DATABASE = google_firestore_database.state.name
      WI_PROJECTS           = join(",", local.watched_projects)
      SLACK_CHANNEL         = var.slack_channel
      WI_COMMANDS_TOPIC     = local.topics.commands
      # What reconcile's self-checks watch: the audit sink and the topic it publishes to (an id in
      # GOOGLE_CLOUD_PROJECT).
      WI_SINK        = local.audit_sink_name
      WI_AUDIT_TOPIC = local.topics.audit
    },
    length(var.slack_allowed_users) > 0 ? { SLACK_ALLOWED_USERS = join(",", var.slack_allowed_users) } : {},
    var.slack_allowed_usergroup != null ? { SLACK_ALLOWED_USERGROUP = var.slack_allowed_usergroup } : {},
  )

  routes_mount_dir = "/etc/wi-sentinel"
  routes_env       = var.routes_yaml != null ? { WI_ROUTES = "${local.routes_mount_dir}/routes.yaml" } : {}

  # Every (function, secret) pair that needs an accessor grant, keyed "function/secret".
  secret_mounts = {
    for pair in flatten([for key, fn in local.functions : [for secret in fn.secrets : { fn = key, secret = secret }]]) :
    "${pair.fn}/${pair.secret}" => pair
  }
  extra_secret_mounts = {
    for pair in setproduct([for key, fn in local.functions : key if fn.extra_secrets], keys(var.extra_secret_env)) :
    "${pair[0]}/${pair[1]}" => { fn = pair[0], env = pair[1], secret = var.extra_secret_env[pair[1]] }
  }
  routes_mounts = var.routes_yaml != null ? { for key, fn in local.functions : key => fn if fn.routes } : {}

  # Sinks at project scope: one per watched project and sink name.
  project_sinks = {
    for pair in setproduct(keys(local.enabled_sinks), var.scope == "project" ? local.watched_projects : []) :
    "${pair[0]}/${pair[1]}" => { sink = pair[0], project = pair[1] }
  }
  organization_sinks = var.scope == "organization" ? local.enabled_sinks : {}
  folder_sinks       = var.scope == "folder" ? local.enabled_sinks : {}

  # Every sink's writer identity and the topic it needs to publish to.
  sink_writers = merge(
    { for key, sink in google_logging_project_sink.sink : key => { member = sink.writer_identity, topic = local.sinks[local.project_sinks[key].sink].topic } },
    { for key, sink in google_logging_organization_sink.sink : "organization/${key}" => { member = sink.writer_identity, topic = local.sinks[key].topic } },
    { for key, sink in google_logging_folder_sink.sink : "folder/${key}" => { member = sink.writer_identity, topic = local.sinks[key].topic } },
  )

  pubsub_service_agent = "service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

data "google_project" "this" {
  project_id = var.project_id
}
