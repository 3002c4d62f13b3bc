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
# The grpc-service component needs kustomize >= 5.1 (kubectl >= 1.31), which
# applies components after the base's configMapGenerator (k8s/README.md).
kustomize_version="$(kubectl version --client -o json | python3 -c 'import json, sys; print(json.load(sys.stdin).get("kustomizeVersion", "v0"))')"
if [ "$(printf '%s\n' v5.1.0 "$kustomize_version" | sort -V | head -n1)" != v5.1.0 ]; then
  echo "check-k8s: kubectl's kustomize is $kustomize_version; k8s/ needs v5.1.0 or later (kubectl 1.31+)" >&2
  exit 1
fi
. scripts/python-tools.sh

# One binary per process base (k8s/base/<name> runs prm-<name>; base/common
# holds no process), so a new service's base is checked against its binary.
packages=()
for base in k8s/base/*/; do
  name="$(basename "$base")"
  [ "$name" = common ] || packages+=(-p "prm-$name")
done
cargo build --quiet --locked --bins "${packages[@]}"
for overlay in k8s/overlays/*/; do
  name="$(basename "$overlay")"
  kubectl kustomize "$overlay" > "$OUT/$name.yaml"
  "$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$OUT/$name.yaml"
  echo "check-k8s: $name renders and validates against Kubernetes $K8S_VERSION"
done
"$VENV/bin/python" tests/k8s/check_manifests.py target/debug "$OUT"/*.yaml
