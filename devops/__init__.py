"""Deployment: local launcher (`python -m devops.local up`), compose, Dockerfiles, Kubernetes manifests."""
