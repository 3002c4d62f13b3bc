#!/usr/bin/env python3
"""Checks rendered Kubernetes manifests against the platform's rules and
against what the binaries actually read and serve.

Usage: check_manifests.py BIN_DIR rendered.yaml [...]

For every PRM Deployment (label app.kubernetes.io/part-of=prm and a tier of
service or gateway):
  - restricted security context: non-root, read-only root filesystem, no
    privilege escalation, all capabilities dropped, RuntimeDefault seccomp;
  - resource requests and limits on every container;
  - no service account token mounted;
  - the binary, run with the container's environment (`check-config`),
    accepts every PRM_ variable and listens on the containerPort that the
    probes and the Service use; services use native gRPC probes (readiness
    on the overall status, liveness on prm.liveness), the gateway HTTP
    /readyz and /healthz;
  - shutdown timing (k8s/README.md, "Shutdown"): terminationGracePeriodSeconds
    covers the process's drain delay and grace period plus 5 s; the readiness
    probe marks a draining pod unready, with 1 s left for the endpoints to
    follow, before its drain delay ends; and the gateway's readiness rides out
    an upstream's drain (which makes its deep /readyz fail for that long);
  - a migrate init container for services;
  - a NetworkPolicy admitting gRPC only from the gateway and labelled
    internal clients (services), and egress limited to known ports: for a
    service PostgreSQL and NATS, plus the gRPC port of another PRM service
    it names (`to` that service's pods only);
  - for the gateway, every PRM_UPSTREAMS__<NAME> is a rendered Service whose
    pods its NetworkPolicy lets it reach (a new service's port must be added
    to the gateway's egress), and whose own NetworkPolicy admits it; and
    the NATS it listens to for link events (PRM_TRACKING__NATS_URL) is one
    its NetworkPolicy lets it reach and, where NATS is rendered (dev), whose
    NetworkPolicy admits it;
  - for a service calling another (an http:// address of a rendered
    `prm-` Service in its environment, e.g. dealreg's PRM_ONBOARDING_URL),
    the same: its NetworkPolicy lets it out to that service's pods and port,
    and the callee's admits its pods (the prm.dev/grpc-client label).
"""

import json
import math
import os
import subprocess
import sys
import urllib.parse

import yaml

GRPC_CLIENT_LABEL = ("prm.dev/grpc-client", "true")
# How long, after a pod is marked unready, the Service's endpoints (kube-proxy,
# ingress controllers) may take to stop sending it new connections.
ENDPOINT_UPDATE_MS = 1000
# How long a client may take to reconnect elsewhere after a draining
# upstream's GOAWAY.
RECONNECT_MS = 1000
NATS_PORT = 4222
failures = []


def fail(where, message):
    failures.append(f"{where}: {message}")


def load(paths):
    docs = []
    for p in paths:
        with open(p) as f:
            docs.extend(d for d in yaml.safe_load_all(f) if d)
    return docs


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def name_of(d):
    return d["metadata"]["name"]


def env_for(container, configmaps, secrets):
    """The environment a container would see (secret values are placeholders)."""
    env = {}
    for src in container.get("envFrom", []):
        ref = src.get("configMapRef")
        if ref:
            cm = configmaps.get(ref["name"])
            if cm is None:
                raise KeyError(f"ConfigMap {ref['name']} is not in the manifests")
            env.update({k: str(v) for k, v in cm.get("data", {}).items()})
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = str(e["value"])
        elif "valueFrom" in e:
            ref = e["valueFrom"].get("secretKeyRef") or e["valueFrom"].get("configMapKeyRef")
            if ref is None:
                continue
            if e["name"].endswith("DATABASE__URL"):
                env[e["name"]] = "postgres://user:placeholder@db.invalid:5432/db"
            elif e["name"].endswith("NATS__URL"):
                env[e["name"]] = "nats://nats.invalid:4222"
            else:
                env[e["name"]] = "placeholder-secret-value-0123456789"
    return env


def check_config(binary, env):
    out = subprocess.run(
        [binary, "check-config"], env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True, text=True, timeout=30,
    )
    report = None
    for line in out.stdout.splitlines():
        try:
            report = json.loads(line)
        except json.JSONDecodeError:
            pass
    return out.returncode, report, out.stderr.strip()


def check_security(where, pod, containers):
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        fail(where, "pod securityContext.runAsNonRoot must be true")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        fail(where, "pod seccompProfile must be RuntimeDefault")
    if pod.get("automountServiceAccountToken") is not False:
        fail(where, "automountServiceAccountToken must be false")
    for c in containers:
        sc = c.get("securityContext", {})
        cw = f"{where} container {c['name']}"
        if sc.get("readOnlyRootFilesystem") is not True:
            fail(cw, "readOnlyRootFilesystem must be true")
        if sc.get("allowPrivilegeEscalation") is not False:
            fail(cw, "allowPrivilegeEscalation must be false")
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            fail(cw, "capabilities must drop ALL")
        res = c.get("resources", {})
        for k in ("requests", "limits"):
            if not {"cpu", "memory"} <= set(res.get(k, {})):
                fail(cw, f"resources.{k} needs cpu and memory")


def port_number(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    return None


def readiness_timing(probe):
    """(ms until a pod that starts failing is marked unready, longest failure
    in ms the probe rides out without marking it unready)."""
    period = probe.get("periodSeconds", 10)
    threshold = probe.get("failureThreshold", 3)
    return period * threshold * 1000, period * (threshold - 1) * 1000


def check_shutdown(where, pod, main, report):
    """After SIGTERM the process reports not-ready at once and keeps serving
    for its drain delay, then stops accepting and gives in-flight work its
    grace period; Kubernetes must wait for all of it, and the readiness
    probe must take the pod out of the endpoints before it stops accepting."""
    drain_ms = report["drain_delay_ms"]
    drain = math.ceil(drain_ms / 1000)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace < drain + report["grace_period_secs"] + 5:
        fail(where, f"terminationGracePeriodSeconds {grace} < the process's drain delay {drain} "
                    f"+ grace {report['grace_period_secs']} + 5")
    unready_ms, _ = readiness_timing(main.get("readinessProbe", {}))
    if unready_ms + ENDPOINT_UPDATE_MS > drain_ms:
        fail(where, f"readiness (periodSeconds x failureThreshold) notices a draining pod after {unready_ms} ms; "
                    f"with {ENDPOINT_UPDATE_MS} ms for the endpoints that is beyond the drain delay of {drain_ms} ms")


def check_deployment(d, docs, bin_dir):
    """Checks one Deployment; returns the binary's check-config report (None
    if there is none)."""
    labels = d["metadata"].get("labels", {})
    name = name_of(d)
    tier = labels.get("prm.dev/tier")
    where = f"Deployment {name}"
    pod = d["spec"]["template"]["spec"]
    containers = pod["containers"]
    inits = pod.get("initContainers", [])
    check_security(where, pod, containers + inits)
    configmaps = {name_of(c): c for c in by_kind(docs, "ConfigMap")}
    secrets = {name_of(s): s for s in by_kind(docs, "Secret")}
    main = containers[0]
    binary = os.path.join(bin_dir, labels["app.kubernetes.io/name"])
    if not os.path.exists(binary):
        fail(where, f"no binary {binary}; build with cargo build --bins")
        return
    env = env_for(main, configmaps, secrets)
    code, report, err = check_config(binary, env)
    if code != 0 or report is None:
        fail(where, f"check-config failed: {report} {err[-300:]}")
        return None
    if report["unread"]:
        fail(where, f"configuration the binary does not read: {report['unread']}")
    port = report["listen_port"]
    container_ports = [p["containerPort"] for p in main.get("ports", [])]
    if container_ports != [port]:
        fail(where, f"containerPort {container_ports} but the binary listens on {port}")
    if "drain_delay_ms" not in report:
        fail(where, f"check-config reports no drain_delay_ms: {report}")
        return None
    check_shutdown(where, pod, main, report)

    ready, live = main.get("readinessProbe", {}), main.get("livenessProbe", {})
    if tier == "service":
        if ready.get("grpc", {}).get("port") != port or ready["grpc"].get("service", "") != "":
            fail(where, f"readiness must be a gRPC probe on {port} for the overall status")
        if live.get("grpc", {}).get("port") != port or live["grpc"].get("service") != "prm.liveness":
            fail(where, f"liveness must be a gRPC probe on {port} for prm.liveness")
        if not any(c.get("args") == ["migrate"] for c in inits):
            fail(where, "services run their migrations in a `migrate` init container")
        for c in inits:
            if c.get("image") != main.get("image"):
                fail(where, "the migrate init container must use the service's own image")
    elif tier == "gateway":
        for probe, path in ((ready, "/readyz"), (live, "/healthz")):
            http = probe.get("httpGet", {})
            if http.get("path") != path or port_number(main, http.get("port")) != port:
                fail(where, f"gateway probes must be HTTP {path} on {port}")
    else:
        fail(where, f"unknown prm.dev/tier {tier!r}")

    # The Service in front of it routes to the same port.
    selected = [s for s in by_kind(docs, "Service")
                if s["spec"].get("selector", {}).get("app.kubernetes.io/name") == labels["app.kubernetes.io/name"]]
    if not selected:
        fail(where, "no Service selects it")
    for s in selected:
        for p in s["spec"]["ports"]:
            if port_number(main, p.get("targetPort", p["port"])) != port:
                fail(f"Service {name_of(s)}", f"targetPort {p.get('targetPort')} does not reach {port}")

    # Its NetworkPolicy.
    policies = [n for n in by_kind(docs, "NetworkPolicy")
                if n["spec"].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") == labels["app.kubernetes.io/name"]]
    if len(policies) != 1:
        fail(where, f"expected one NetworkPolicy of its own, found {len(policies)}")
        return report
    np = policies[0]["spec"]
    if set(np.get("policyTypes", [])) != {"Ingress", "Egress"}:
        fail(where, "its NetworkPolicy must govern ingress and egress")
    for rule in np.get("ingress", []):
        ports = [p.get("port") for p in rule.get("ports", [])]
        if ports != [port]:
            fail(where, f"ingress must be on port {port} only, not {ports}")
        peers = rule.get("from")
        if tier == "service":
            allowed = [{"app.kubernetes.io/name": "prm-gateway"}, {GRPC_CLIENT_LABEL[0]: GRPC_CLIENT_LABEL[1]}]
            got = [p.get("podSelector", {}).get("matchLabels") for p in (peers or [])]
            if not peers or any(g not in allowed for g in got) or any("ipBlock" in p or "namespaceSelector" in p for p in peers):
                fail(where, f"gRPC may come only from the gateway and labelled internal clients, not {peers}")
        elif peers is not None:
            fail(where, "the gateway takes external traffic on its port")
    for rule in np.get("egress", []):
        ports = {p.get("port") for p in rule.get("ports", [])}
        if tier != "service":
            # The gateway: the services' gRPC ports, and NATS (link events).
            allowed = {50051, 50052, 50053, 50054, 50055} if rule.get("to") is not None else {NATS_PORT}
        elif rule.get("to") is None:
            allowed = {5432, 4222}
        else:
            # A service calling another: only to that service's pods, on
            # its gRPC port.
            allowed = service_peer_ports(rule["to"], docs)
            if allowed is None:
                fail(where, f"egress may name only PRM service pods (by app.kubernetes.io/name), not {rule['to']}")
                continue
        if not ports or not ports <= allowed:
            fail(where, f"egress to ports {sorted(ports)} beyond {sorted(allowed)}")
    if tier == "gateway":
        check_upstreams(where, env, d, np, docs)
        check_gateway_nats(where, env, d, np, docs)
    else:
        check_service_calls(where, env, d, np, docs)
    return report


def service_deployments(docs):
    return [d for d in by_kind(docs, "Deployment")
            if d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "prm"
            and d["metadata"]["labels"].get("prm.dev/tier") == "service"]


def service_peer_ports(peers, docs):
    """The gRPC ports of the PRM services an egress rule's `to` names, each
    peer exactly `podSelector: {matchLabels: {app.kubernetes.io/name: ...}}`
    of a rendered service; None if any peer is something else."""
    ports = set()
    for peer in peers:
        labels = peer.get("podSelector", {}).get("matchLabels") if set(peer) == {"podSelector"} else None
        if not labels or set(labels) != {"app.kubernetes.io/name"}:
            return None
        dep = next((d for d in service_deployments(docs)
                    if d["metadata"]["labels"]["app.kubernetes.io/name"] == labels["app.kubernetes.io/name"]), None)
        if dep is None:
            return None
        ports |= {p["containerPort"] for p in dep["spec"]["template"]["spec"]["containers"][0].get("ports", [])}
    return ports


def selects(selector, labels):
    """Whether a podSelector (matchLabels only) selects pods with `labels`."""
    if selector is None or selector.get("matchExpressions"):
        return False
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def pod_labels(dep):
    return dep["spec"]["template"].get("metadata", {}).get("labels", {})


def rule_ports(rule, container):
    """The pod ports a NetworkPolicy rule covers (None: every port)."""
    if not rule.get("ports"):
        return None
    return {port_number(container, p.get("port")) for p in rule["ports"]}


def lets_out(np, container, labels, port):
    """Whether egress policy `np` lets its pods call pods with `labels` on `port`."""
    for rule in np.get("egress", []):
        peers = rule.get("to")
        to_it = peers is None or any(set(p) == {"podSelector"} and selects(p["podSelector"], labels) for p in peers)
        covered = rule_ports(rule, container)
        if to_it and (covered is None or port in covered):
            return True
    return False


def lets_in(np, container, labels, port):
    """Whether ingress policy `np` admits pods with `labels` on `port`."""
    for rule in np.get("ingress", []):
        peers = rule.get("from")
        from_it = peers is None or any(set(p) == {"podSelector"} and selects(p["podSelector"], labels) for p in peers)
        covered = rule_ports(rule, container)
        if from_it and (covered is None or port in covered):
            return True
    return False


def policy_of(docs, app):
    return next((n["spec"] for n in by_kind(docs, "NetworkPolicy")
                 if n["spec"].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") == app), None)


def check_call(where, key, url, caller, caller_np, docs, hint=""):
    """`caller` calls the PRM Service at `url` (setting `key`): the Service
    exists on that port in front of a Deployment, the caller's NetworkPolicy
    lets it out to those pods on their port, and theirs lets it in."""
    u = urllib.parse.urlsplit(url)
    host = (u.hostname or "").split(".")[0]
    svc = next((s for s in by_kind(docs, "Service") if name_of(s) == host), None)
    if svc is None:
        fail(where, f"{key} calls {host!r}, which is not a rendered Service")
        return
    sp = next((p for p in svc["spec"]["ports"] if p["port"] == u.port), None)
    app = svc["spec"].get("selector", {}).get("app.kubernetes.io/name")
    dep = next((d for d in by_kind(docs, "Deployment")
                if d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == app), None)
    if sp is None or dep is None:
        fail(where, f"{key}: Service {host} has no port {u.port} in front of a Deployment")
        return
    container = dep["spec"]["template"]["spec"]["containers"][0]
    pod_port = port_number(container, sp.get("targetPort", sp["port"]))
    if not lets_out(caller_np, container, pod_labels(dep), pod_port):
        fail(where, f"{key}: its NetworkPolicy does not let it reach {app} on port {pod_port}")
    callee_np = policy_of(docs, app)
    if callee_np is not None and not lets_in(callee_np, container, pod_labels(caller), pod_port):
        fail(where, f"{key}: the NetworkPolicy of {app} does not admit its pods on port {pod_port}{hint}")


def check_upstreams(where, env, dep, np, docs):
    """Every upstream the gateway calls is a rendered Service, on one of its
    ports, whose pods the gateway's NetworkPolicy lets it reach and whose
    NetworkPolicy admits the gateway."""
    for key, url in sorted(env.items()):
        if key.startswith("PRM_UPSTREAMS__"):
            check_call(where, key, url, dep, np, docs)


def check_gateway_nats(where, env, dep, np, docs):
    """The gateway listens to NATS for the commissions service's link events
    (PRM_TRACKING__NATS_URL, possibly a comma-separated cluster): its
    NetworkPolicy must let it out to every server, and a NATS rendered in
    the manifests (dev) must admit it."""
    for server in filter(None, (u.strip() for u in env.get("PRM_TRACKING__NATS_URL", "").split(","))):
        u = urllib.parse.urlsplit(server)
        port = u.port or NATS_PORT
        host = (u.hostname or "").split(".")[0]
        svc = next((s for s in by_kind(docs, "Service") if name_of(s) == host and "." not in (u.hostname or "")), None)
        if svc is None:
            # Outside the namespace (prod): only a rule without `to` reaches it.
            if not any(r.get("to") is None and (rule_ports(r, {}) is None or port in rule_ports(r, {}))
                       for r in np.get("egress", [])):
                fail(where, f"PRM_TRACKING__NATS_URL: its NetworkPolicy does not let it reach {server}")
            continue
        sp = next((p for p in svc["spec"]["ports"] if p["port"] == port), None)
        app = svc["spec"].get("selector", {}).get("app.kubernetes.io/name")
        pods = next((w for w in docs if w.get("kind") in ("StatefulSet", "Deployment")
                     and pod_labels(w).get("app.kubernetes.io/name") == app), None)
        if sp is None or pods is None or not isinstance(sp.get("targetPort", port), int):
            fail(where, f"PRM_TRACKING__NATS_URL: Service {host} has no port {port} in front of NATS pods")
            continue
        pod_port = sp.get("targetPort", port)
        if not lets_out(np, {}, pod_labels(pods), pod_port):
            fail(where, f"PRM_TRACKING__NATS_URL: its NetworkPolicy does not let it reach {app} on port {pod_port}")
        nats_np = policy_of(docs, app)
        if nats_np is not None and not lets_in(nats_np, {}, pod_labels(dep), pod_port):
            fail(where, f"PRM_TRACKING__NATS_URL: the NetworkPolicy of {app} does not admit its pods on port {pod_port}")


def check_service_calls(where, env, dep, np, docs):
    """A service's settings that address another PRM service (an http(s)
    URL of a `prm-` host, such as dealreg's PRM_ONBOARDING_URL) are calls
    that must get through both NetworkPolicies, as the gateway's do."""
    for key, url in sorted(env.items()):
        u = urllib.parse.urlsplit(url)
        if u.scheme in ("http", "https") and (u.hostname or "").startswith("prm-"):
            check_call(where, key, url, dep, np, docs,
                       hint=f" (an internal client's pods need the label {GRPC_CLIENT_LABEL[0]}: \"{GRPC_CLIENT_LABEL[1]}\")")


def check_platform(docs):
    deny = [n for n in by_kind(docs, "NetworkPolicy") if n["spec"].get("podSelector") == {}
            and set(n["spec"].get("policyTypes", [])) == {"Ingress", "Egress"} and not n["spec"].get("ingress") and not n["spec"].get("egress")]
    if not deny:
        fail("namespace", "a default-deny NetworkPolicy is required")
    for kind in ("StatefulSet",):
        for s in by_kind(docs, kind):
            app = s["metadata"]["labels"].get("app.kubernetes.io/name")
            port = {"prm-postgres": 5432, "prm-nats": 4222}.get(app)
            if port is None:
                continue
            pols = [n for n in by_kind(docs, "NetworkPolicy")
                    if n["spec"].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") == app]
            peers = [p.get("podSelector", {}).get("matchLabels") for n in pols for r in n["spec"].get("ingress", []) for p in r.get("from", [])]
            # The services; and NATS also the gateway (tracking-link events).
            allowed = [{"prm.dev/tier": "service"}]
            if app == "prm-nats":
                allowed.append({"app.kubernetes.io/name": "prm-gateway"})
            if not peers or peers[0] != allowed[0] or any(p not in allowed for p in peers):
                fail(f"{kind} {name_of(s)}", f"only {allowed} may reach it, not {peers}")
            check_security(f"{kind} {name_of(s)}", s["spec"]["template"]["spec"], s["spec"]["template"]["spec"]["containers"])


def check_gateway_readiness(deployments, reports):
    """The gateway's /readyz asks every upstream for its overall status, over
    a connection that may reach a pod in its drain delay (NOT_SERVING while
    still serving, until it sends GOAWAY). Its readiness probe must ride that
    out, and the reconnection after it, or each rollout of a service takes the
    gateways out of their Service."""
    service_drains = [reports[name_of(d)]["drain_delay_ms"] for d in deployments
                      if d["metadata"]["labels"].get("prm.dev/tier") == "service" and name_of(d) in reports]
    if not service_drains:
        return
    for d in deployments:
        if d["metadata"]["labels"].get("prm.dev/tier") != "gateway":
            continue
        probe = d["spec"]["template"]["spec"]["containers"][0].get("readinessProbe", {})
        _, rides_out_ms = readiness_timing(probe)
        if rides_out_ms < max(service_drains) + RECONNECT_MS:
            fail(f"Deployment {name_of(d)}", f"readiness rides out {rides_out_ms} ms of failures "
                 f"(periodSeconds x (failureThreshold - 1)), less than an upstream's drain delay "
                 f"{max(service_drains)} ms + {RECONNECT_MS} ms; an upstream's rollout would make the gateway unready")


def check_docs(path, docs, bin_dir):
    deployments = [d for d in by_kind(docs, "Deployment") if d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "prm"]
    if not deployments:
        fail(path, "no PRM deployments rendered")
    reports = {}
    for d in deployments:
        report = check_deployment(d, docs, bin_dir)
        if report is not None:
            reports[name_of(d)] = report
    check_gateway_readiness(deployments, reports)
    check_platform(docs)
    return len(deployments)


def find(docs, kind, name):
    return next(d for d in docs if d.get("kind") == kind and name_of(d) == name)


# Each of these breaks one rule; the checks must notice every one.
MUTATIONS = {
    "port drift": lambda docs: find(docs, "ConfigMap", "prm-onboarding-config")["data"].update(PRM_GRPC__PORT="50099"),
    "unread key": lambda docs: find(docs, "ConfigMap", "prm-gateway-config")["data"].update(PRM_HTTP__PROT="1"),
    "writable root": lambda docs: find(docs, "Deployment", "prm-onboarding")["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(readOnlyRootFilesystem=False),
    "short grace": lambda docs: find(docs, "Deployment", "prm-gateway")["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=10),
    # Enough for the grace period, not for the drain delay before it.
    "no drain time": lambda docs: find(docs, "Deployment", "prm-onboarding")["spec"]["template"]["spec"].update(
        terminationGracePeriodSeconds=int(find(docs, "ConfigMap", "prm-onboarding-config")["data"]["PRM_GRPC__GRACE_PERIOD_SECS"]) + 5),
    "slow readiness": lambda docs: find(docs, "Deployment", "prm-onboarding")["spec"]["template"]["spec"]["containers"][0]["readinessProbe"].update(periodSeconds=10),
    "flappy gateway": lambda docs: find(docs, "Deployment", "prm-gateway")["spec"]["template"]["spec"]["containers"][0]["readinessProbe"].update(failureThreshold=1),
    "wrong probe": lambda docs: find(docs, "Deployment", "prm-gateway")["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"].update(path="/nope"),
    "open ingress": lambda docs: find(docs, "NetworkPolicy", "prm-onboarding")["spec"]["ingress"][0]["from"].append({"podSelector": {"matchLabels": {"app": "anything"}}}),
    "no migrations": lambda docs: find(docs, "Deployment", "prm-onboarding")["spec"]["template"]["spec"].pop("initContainers"),
    "blocked upstream": lambda docs: find(docs, "NetworkPolicy", "prm-gateway")["spec"]["egress"][0]["ports"][0].update(port=50052),
    # The gateway listens to NATS for link events: its egress and NATS's
    # ingress must both let it through.
    "gateway cut off from NATS": lambda docs: find(docs, "NetworkPolicy", "prm-gateway")["spec"]["egress"].pop(),
    "NATS refuses the gateway": lambda docs: find(docs, "NetworkPolicy", "prm-nats")["spec"]["ingress"][0]["from"].pop(),
    # A service calling another (dealreg asks onboarding): without the
    # client label the callee refuses it; without its egress rule it cannot
    # leave; and that rule may not open more than the callee's port.
    "unlabelled client": lambda docs: pod_labels(find(docs, "Deployment", "prm-dealreg")).pop(GRPC_CLIENT_LABEL[0]),
    "blocked call": lambda docs: find(docs, "NetworkPolicy", "prm-dealreg")["spec"]["egress"].pop(),
    "wide call": lambda docs: find(docs, "NetworkPolicy", "prm-dealreg")["spec"]["egress"][-1].update(to=[{"podSelector": {}}]),
}


def self_test(path, bin_dir):
    import copy
    pristine = load([path])
    for name, mutate in MUTATIONS.items():
        docs = copy.deepcopy(pristine)
        mutate(docs)
        failures.clear()
        check_docs(path, docs, bin_dir)
        if not failures:
            print(f"FAIL self-test: the checks did not notice {name!r}", file=sys.stderr)
            sys.exit(1)
    failures.clear()
    print(f"self-test: all {len(MUTATIONS)} deliberate breakages were caught")


def main():
    bin_dir, paths = sys.argv[1], sys.argv[2:]
    self_test(paths[0], bin_dir)
    for path in paths:
        n = check_docs(path, load([path]), bin_dir)
        print(f"{path}: {n} deployments checked")
    if failures:
        print("\n".join(f"FAIL {f}" for f in failures), file=sys.stderr)
        sys.exit(1)
    print("manifests match the binaries and the platform rules")


if __name__ == "__main__":
    main()
