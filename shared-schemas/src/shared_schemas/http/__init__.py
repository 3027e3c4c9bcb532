"""HTTP pieces every service and the gateway share: problem+json errors, request ids, probes."""
