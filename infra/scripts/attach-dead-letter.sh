#!/usr/bin/env bash
# Attaches a dead-letter topic to the Pub/Sub subscription behind an Eventarc trigger, and lets the
# Pub/Sub service agent acknowledge what it forwards there (subscriber on that subscription only).
# Environment: TRIGGER (projects/P/locations/L/triggers/T), DEAD_LETTER_TOPIC (projects/P/topics/T),
# MAX_DELIVERY_ATTEMPTS, PUBSUB_SERVICE_AGENT (an email). Idempotent.
set -euo pipefail

: "${TRIGGER:?TRIGGER is required}"
: "${DEAD_LETTER_TOPIC:?DEAD_LETTER_TOPIC is required}"
: "${MAX_DELIVERY_ATTEMPTS:?MAX_DELIVERY_ATTEMPTS is required}"
: "${PUBSUB_SERVICE_AGENT:?PUBSUB_SERVICE_AGENT is required}"

subscription="$(gcloud eventarc triggers describe "$TRIGGER" --format='value(transport.pubsub.subscription)')"
if [[ -z "$subscription" ]]; then
  echo "attach-dead-letter: trigger $TRIGGER has no Pub/Sub subscription yet" >&2
  exit 1
fi

gcloud pubsub subscriptions add-iam-policy-binding "$subscription" \
  --member="serviceAccount:$PUBSUB_SERVICE_AGENT" --role=roles/pubsub.subscriber --quiet >/dev/null
gcloud pubsub subscriptions update "$subscription" \
  --dead-letter-topic="$DEAD_LETTER_TOPIC" --max-delivery-attempts="$MAX_DELIVERY_ATTEMPTS" --quiet
echo "attach-dead-letter: $subscription -> $DEAD_LETTER_TOPIC after $MAX_DELIVERY_ATTEMPTS attempts"
