"""Event contracts: the CloudEvents envelope, one model per event type, the topic catalogue."""
