"""Kubernetes manifests (kustomize base and overlays) and the kubectl that renders them."""
