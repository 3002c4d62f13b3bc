#!/usr/bin/env bash
# Renders every overlay, validates it offline against the Kubernetes schemas,
# and checks it against the platform rules and the binaries (run by make test).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
K8S_VERSION="${PRM_K8S_VERSION:-1.34.0}"
OUT=.local/k8s
mkdir -p "$OUT"

if ! command -v kubectl >/dev/null; then
  echo "check-k8s: installing kubectl (for kustomize) from the OS packages" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq kubectl >/dev/null; else sudo apt-get install -y -qq kubectl >/dev/null; fi
fi
. scripts/python-tools.sh

cargo build --quiet --locked --bins -p prm-onboarding -p prm-gateway
for overlay in k8s/overlays/*/; do
  name="$(basename "$overlay")"
  kubectl kustomize "$overlay" > "$OUT/$name.yaml"
  "$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$OUT/$name.yaml"
  echo "check-k8s: $name renders and validates against Kubernetes $K8S_VERSION"
done
"$VENV/bin/python" tests/k8s/check_manifests.py target/debug "$OUT"/*.yaml
