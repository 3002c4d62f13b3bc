# Sourced by the check scripts: a project-owned Python venv with the
# offline validators (Kubernetes schemas, OpenAPI) and schemathesis (the
# gateway's contract fuzzer, scripts/contract-check.sh), installed once from
# PyPI. Each tool is installed only when missing or at another version.
VENV="${VENV:-.local/venv}"
SCHEMATHESIS_VERSION="4.32.5"
if [ ! -x "$VENV/bin/kubernetes-validate" ] || [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "kubernetes-validate==1.37.0" "openapi-spec-validator>=0.7,<0.9" "PyYAML>=6"
fi
if [ ! -x "$VENV/bin/schemathesis" ] \
  || [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
