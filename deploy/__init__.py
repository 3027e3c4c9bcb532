"""Deployment: the local launcher, Kubernetes manifests and operations scripts."""
