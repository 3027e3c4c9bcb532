"""The gateway's own Prometheus metrics, served by the shell's `/metrics` beside the
request latency every service has (`http_request_duration_seconds`, which the proxy also
feeds, per templated route such as `/api/erp/orders/{id}/cancel`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

UPSTREAM_LATENCY = Histogram(
    "gateway_upstream_request_duration_seconds",
    "Time from sending a request to an upstream service to its response headers",
    ["upstream"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPSTREAM_REQUESTS = Counter(
    "gateway_upstream_requests_total",
    "Calls to an upstream service by outcome: the status class (2xx..5xx), or "
    "connect_error, disconnected, timeout, broken_off (an answer whose body broke off), "
    "circuit_open (not called)",
    ["upstream", "outcome"],
)
BREAKER_STATE = Gauge(
    "gateway_circuit_breaker_state",
    "Circuit breaker per upstream: 0 closed, 1 open, 2 half-open",
    ["upstream"],
)
RATE_LIMITED = Counter(
    "gateway_rate_limited_total",
    "Requests refused with 429, by the limit that refused them (ip or user)",
    ["limit"],
)
RATE_LIMIT_ERRORS = Counter(
    "gateway_rate_limit_errors_total",
    "Requests let through unchecked because the shared rate-limit store did not answer",
)
# Set by the webhook delivery side: deliveries due or waiting for a retry.
WEBHOOK_BACKLOG = Gauge(
    "gateway_webhook_backlog",
    "Webhook deliveries not yet delivered (due now or waiting for a retry)",
)
# Set at each scrape from the event history: a consumer that stopped shows as a growing
# distance to the current time (alert on it; it never makes the gateway unready).
LAST_EVENT_RECEIVED = Gauge(
    "gateway_last_event_received_timestamp_seconds",
    "When the gateway's consumer last recorded a business event (Unix time)",
)
# Set by the broker probe (adapters/broker_probe.py), checked at most every 15 s when
# scraped or asked for health details; never a reason to be unready.
BROKER_UP = Gauge(
    "gateway_broker_up",
    "Whether a Kafka bootstrap server answered the gateway's last metadata request (1) or not (0)",
)
