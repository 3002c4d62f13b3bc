# Sourced by the check scripts: a project-owned Python venv with the
# offline validators (Kubernetes schemas, OpenAPI), installed once from PyPI.
VENV="${VENV:-.local/venv}"
if [ ! -x "$VENV/bin/kubernetes-validate" ] || [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "kubernetes-validate==1.37.0" "openapi-spec-validator>=0.7,<0.9" "PyYAML>=6"
fi
