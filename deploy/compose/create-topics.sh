#!/usr/bin/env bash
# Creates the platform's Kafka topics with the partition counts of the topic catalogue
# (shared-schemas events/catalogue.py), then checks that every topic has exactly that
# many partitions. Run once by compose's kafka-init service; safe to run again.
#
#   TOPICS              whitespace-separated name:partitions pairs
#   BOOTSTRAP_SERVER    host:port of a broker
#   REPLICATION_FACTOR  replicas per partition (1 on a single node)
#
# A topic that exists with another partition count is an error, not something to fix
# here: adding partitions moves keys to other partitions and breaks per-key ordering.
set -euo pipefail

: "${TOPICS:?TOPICS (name:partitions pairs) is not set}"
: "${BOOTSTRAP_SERVER:?BOOTSTRAP_SERVER is not set}"
replication="${REPLICATION_FACTOR:-1}"
kafka_topics=/opt/kafka/bin/kafka-topics.sh

existing="$("$kafka_topics" --bootstrap-server "$BOOTSTRAP_SERVER" --list)"

for entry in $TOPICS; do
    name="${entry%%:*}"
    partitions="${entry##*:}"
    if grep -qxF "$name" <<<"$existing"; then
        echo "topic $name exists"
        continue
    fi
    "$kafka_topics" --bootstrap-server "$BOOTSTRAP_SERVER" --create --if-not-exists \
        --topic "$name" --partitions "$partitions" --replication-factor "$replication"
done

# One describe for all topics: "Topic: <name> ... PartitionCount: <n> ..." per topic.
counts="$("$kafka_topics" --bootstrap-server "$BOOTSTRAP_SERVER" --describe \
    | awk '/PartitionCount:/ {
        for (i = 1; i < NF; i++) {
            if ($i == "Topic:") name = $(i + 1)
            if ($i == "PartitionCount:") count = $(i + 1)
        }
        print name, count
    }')"

failed=0
for entry in $TOPICS; do
    name="${entry%%:*}"
    partitions="${entry##*:}"
    actual="$(awk -v topic="$name" '$1 == topic { print $2 }' <<<"$counts")"
    if [[ "$actual" != "$partitions" ]]; then
        echo "topic $name has ${actual:-no} partitions, the catalogue says $partitions" >&2
        failed=1
    fi
done
if [[ "$failed" != 0 ]]; then
    exit 1
fi
echo "all topics present with the catalogue's partition counts"
