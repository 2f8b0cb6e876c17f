"""Running Habyss: the local launcher, the container image and the Kubernetes manifests."""
