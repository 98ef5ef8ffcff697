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

  # Each sink as reconcile's self-checks name it (WI_SINK, WI_WORKLOAD_SINK): a bare name is that sink
  # in each watched project (project scope); folder and organization sinks are named in full.
  sink_names = {
    for name in keys(local.sinks) : name => (var.scope == "project" ? "${local.prefix}-${name}"
      : var.scope == "folder" ? "folders/${var.folder_id}/sinks/${local.prefix}-${name}"
    : "organizations/${var.organization_id}/sinks/${local.prefix}-${name}")
  }

  # The secrets wi-sentinel reads, by key: the environment variable each is mounted as.
  secrets = merge(
    {
      slack_bot_token      = "SLACK_BOT_TOKEN"
      slack_signing_secret = "SLACK_SIGNING_SECRET"
    },
    var.enable_pagerduty ? {
      pagerduty_routing_key    = "PAGERDUTY_ROUTING_KEY"
      pagerduty_webhook_secret = "PAGERDUTY_WEBHOOK_SECRET"
    } : {},
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
      # It verifies each command's MAC (the signing secret), and the buttons of an incident's message
      # edit it and tell PagerDuty as auditEvents does (the notify secrets and the routing file).
      secrets       = concat(local.notify_secrets, ["slack_signing_secret"])
      extra_secrets = true
      routes        = true
      memory        = "512Mi"
      cpu           = "1"
      concurrency   = 4
      timeout       = 120
      min_instances = 0
      max_instances = 5
    }
    # PagerDuty's v3 webhooks: acknowledgements, resolves and reassignments shown on the Slack message.
    # Without PagerDuty it mounts no webhook secret and refuses every request.
    pagerdutyWebhook = {
      name          = "${local.prefix}-pagerduty-webhook"
      description   = "PagerDuty v3 webhooks: verifies X-PagerDuty-Signature, keeps incidents' Slack messages in step."
      topic         = null
      reads         = false
      secrets       = concat(["slack_bot_token"], var.enable_pagerduty ? ["pagerduty_webhook_secret"] : [])
      extra_secrets = true
      routes        = true
      memory        = "256Mi"
      cpu           = "1"
      concurrency   = 8
      timeout       = 60
      min_instances = 0
      max_instances = 3
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
      WI_SINK        = local.sink_names.audit
      WI_AUDIT_TOPIC = local.topics.audit
    },
    # The workload sink too, when there is one.
    var.enable_workload_sink ? { WI_WORKLOAD_SINK = local.sink_names.workload } : {},
    local.scope_env,
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

  # Who may publish to which topic for the sinks. Sinks of one parent (a project, the folder, the
  # organization) share one writer identity, the parent's Logging service agent, so it is granted once per
  # parent and topic: a grant per sink would be one binding made twice, and destroying one sink (such as
  # enable_workload_sink = false) would revoke it for all of them. The audit sink, always created, names
  # the identity; keys use only known values (parents and topics), never the identity itself.
  sink_topics = distinct([for name, sink in local.enabled_sinks : sink.topic])
  sink_writers = merge(
    {
      for pair in setproduct(var.scope == "project" ? local.watched_projects : [], local.sink_topics) :
      "projects/${pair[0]}/${pair[1]}" => {
        topic  = pair[1]
        member = google_logging_project_sink.sink["audit/${pair[0]}"].writer_identity
      }
    },
    {
      for topic in (var.scope == "organization" ? local.sink_topics : []) :
      "organizations/${var.organization_id}/${topic}" => {
        topic  = topic
        member = google_logging_organization_sink.sink["audit"].writer_identity
      }
    },
    {
      for topic in (var.scope == "folder" ? local.sink_topics : []) :
      "folders/${var.folder_id}/${topic}" => {
        topic  = topic
        member = google_logging_folder_sink.sink["audit"].writer_identity
      }
    },
  )

  # Where Cloud Functions copies each function's sources for Cloud Build (created on its first deployment
  # in the region), as IAM conditions name a bucket.
  sources_bucket = "projects/_/buckets/gcf-v2-sources-${data.google_project.this.number}-${var.region}"

  pubsub_service_agent = "service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

data "google_project" "this" {
  project_id = var.project_id
}
