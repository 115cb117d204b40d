#!/usr/bin/env python3
"""Checks deploy/kubernetes against the fields Kubernetes documents and the
promises echod makes (probes on the admin endpoint, grace above the drain
time, non-root). Exit 0 when every check passes; prints one line per check."""
import pathlib
import re
import sys

import yaml

root = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
docs = {}
for path in sorted(root.glob("*.yaml")):
    for doc in yaml.safe_load_all(path.read_text()):
        docs[doc["kind"]] = doc

failures = 0


def check(what, ok):
    global failures
    print(("  ok    " if ok else "  FAIL  ") + what)
    failures += 0 if ok else 1


kust = docs["Kustomization"]
check("kustomization lists every manifest",
      sorted(kust["resources"]) == sorted(p.name for p in root.glob("*.yaml") if p.name != "kustomization.yaml"))

dep = docs["Deployment"]
check("Deployment is apps/v1", dep["apiVersion"] == "apps/v1")
spec = dep["spec"]
pod = spec["template"]["spec"]
labels = spec["template"]["metadata"]["labels"]
check("selector matches the pod labels", spec["selector"]["matchLabels"].items() <= labels.items())
container = pod["containers"][0]
ports = {p["name"]: (p["containerPort"], p.get("protocol", "TCP")) for p in container["ports"]}
check("container ports: echo 4567, echo-udp 4567/UDP, proxy 4570, admin 9090",
      ports == {"echo": (4567, "TCP"), "echo-udp": (4567, "UDP"), "proxy": (4570, "TCP"), "admin": (9090, "TCP")})
env = {e["name"]: e.get("value") for e in container.get("env", [])}
env_from = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in container.get("env", [])}
drain = float(env.get("ECHO_DRAIN_TIMEOUT", 5))
delay = float(env.get("ECHO_SHUTDOWN_DELAY", 0))
pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
pre_stop_s = float(pre_stop[1]) if pre_stop[:1] == ["sleep"] else 0.0
check(f"terminationGracePeriodSeconds {pod['terminationGracePeriodSeconds']} > preStop {pre_stop_s} + shutdown delay "
      f"{delay} + drain {drain} + 1",
      pod["terminationGracePeriodSeconds"] > pre_stop_s + delay + drain + 1)
check("a shutdown delay, so the pod leaves the rotation before the drain", delay > 0)
check("enableServiceLinks: false (no ECHO_PORT=tcp://... from a Service named echo)",
      pod.get("enableServiceLinks") is False)
check("readinessProbe is GET /readyz on the admin port",
      container["readinessProbe"]["httpGet"]["path"] == "/readyz"
      and container["readinessProbe"]["httpGet"]["port"] in ("admin", 9090))
check("livenessProbe is GET /healthz on the admin port",
      container["livenessProbe"]["httpGet"]["path"] == "/healthz"
      and container["livenessProbe"]["httpGet"]["port"] in ("admin", 9090))
for name, field in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"),
                    ("NODE_NAME", "spec.nodeName")):
    check(f"{name} from the Downward API ({field})", env_from.get(name) == field)
check("ECHO_WHO_COMMAND is who", env.get("ECHO_WHO_COMMAND") == "who")
# Rollouts (docs/protocol.md "Rollouts and connection lifetime"): the version and
# labels come from the pod's own labels, so a canary Deployment says what it is.
version_path = env_from.get("ECHO_SERVICE_VERSION") or ""
version_label = re.fullmatch(r"metadata\.labels\['([^']+)'\]", version_path)
check("ECHO_SERVICE_VERSION from a pod label through the Downward API",
      version_label is not None and version_label.group(1) in labels)
label_refs = re.findall(r"(\w+)=\$\((\w+)\)", env.get("ECHO_LABELS") or "")
check("ECHO_LABELS: key=$(VAR) pairs, each VAR a pod label from the Downward API",
      bool(label_refs) and all(
          re.fullmatch(r"[a-z0-9_.-]+", key)
          and (m := re.fullmatch(r"metadata\.labels\['([^']+)'\]", env_from.get(var) or ""))
          and m.group(1) in labels
          for key, var in label_refs))
names = [e["name"] for e in container.get("env", [])]
check("each $(VAR) in ECHO_LABELS is defined before it (Kubernetes expands only earlier ones)",
      all(var in names[: names.index("ECHO_LABELS")] for _, var in label_refs))
keepalive = [int(x) for x in (env.get("ECHO_TCP_KEEPALIVE") or "0,0,0").split(",")]
check(f"TCP keepalive {keepalive}: first probe before AWS NLB's 350 s idle timeout, 1-127 probes",
      len(keepalive) == 3 and 0 < keepalive[0] < 350 and keepalive[1] > 0 and 0 < keepalive[2] <= 127)
check("TCP_USER_TIMEOUT at least the keepalive's detection time (or it cuts keepalive short)",
      int(env.get("ECHO_TCP_USER_TIMEOUT") or 0) >= 1000 * (keepalive[0] + keepalive[1] * keepalive[2]) or
      int(env.get("ECHO_TCP_USER_TIMEOUT") or 0) == 0)
deployment_text = (root / "deployment.yaml").read_text()
max_age = env.get("ECHO_MAX_CONNECTION_AGE")
commented = re.search(r"#\s*- \{name: ECHO_MAX_CONNECTION_AGE, value: \"(\d+(?:\.\d+)?)~(\d+(?:\.\d+)?)\"\}",
                      deployment_text)
check("ECHO_MAX_CONNECTION_AGE shown with its use (set, or commented as opt-in) as S~J with J < S",
      (max_age is not None and re.fullmatch(r"\d+(\.\d+)?(~\d+(\.\d+)?)?", max_age) is not None) or
      (commented is not None and float(commented.group(2)) < float(commented.group(1))))
check("ECHO_PROXY_PORT is the declared proxy port 4570", env.get("ECHO_PROXY_PORT") == "4570")
check("ECHO_UDP_PORT is the declared UDP port 4567", env.get("ECHO_UDP_PORT") == "4567")
res = container["resources"]
check("resources: cpu and memory requests and limits",
      all(k in res[s] for s in ("requests", "limits") for k in ("cpu", "memory")))
def mebibytes(quantity):
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for unit, factor in units.items():
        if quantity.endswith(unit):
            return float(quantity[: -len(unit)]) * factor
    return float(quantity) / (1 << 20)

env_names = {e["name"] for e in container.get("env", [])}
check("no ECHO_MAX_THREADS: the pool is sized from the pod's limits", "ECHO_MAX_THREADS" not in env_names)
# The server's variables, read from its settings groups' tables (service/server/*Settings.cpp,
# summed by ServerSettings), plus the two known names that are not server settings (the file's
# and the client's).
settings_source = "".join(p.read_text() for p in sorted((root.parents[1] / "service" / "server").glob("*Settings.cpp")))
known = set(re.findall(r'"(ECHO_[A-Z_]+)"', settings_source)) | {"ECHO_CONFIG_FILE", "ECHO_TIMEOUT"} \
    | {"POD_NAME", "POD_NAMESPACE", "NODE_NAME"} \
    | {var for value in env.values() if value for var in re.findall(r"\$\((\w+)\)", value)}
# (the Downward API's, read by `who`; and helpers that another value takes in as $(VAR))
check(f"every env name is a setting the server knows ({len(known)} known)", len(known) > 10 and env_names <= known)
for name in sorted(env_names - known):
    print(f"        unknown: {name}")
# service/server/PoolSizing.h: (memory - 32 MiB reserved) / 64 KiB a connection.
pool = int((mebibytes(res["limits"]["memory"]) - 32) * 1024 / 64)
check(f"memory limit {res['limits']['memory']} sizes a pool of {pool} >= 10,000 connections", pool >= 10000)
psc = pod["securityContext"]
csc = container["securityContext"]
check("runs as non-root uid 10001 (the image's user)", psc["runAsNonRoot"] is True and psc["runAsUser"] == 10001)
check("no privilege escalation, read-only root, no capabilities",
      csc["allowPrivilegeEscalation"] is False and csc["readOnlyRootFilesystem"] is True
      and csc["capabilities"]["drop"] == ["ALL"])

svc = docs["Service"]
check("Service is v1 and selects the pods", svc["apiVersion"] == "v1" and svc["spec"]["selector"].items() <= labels.items())
check("Service exposes 4567 to the echo port",
      any(p["port"] == 4567 and p["targetPort"] in ("echo", 4567) for p in svc["spec"]["ports"]))
check("Service exposes 4567/UDP to the UDP echo port",
      any(p["port"] == 4567 and p.get("protocol") == "UDP" and p["targetPort"] in ("echo-udp", 4567)
          for p in svc["spec"]["ports"]))
check("Service exposes 4570 to the proxy port",
      any(p["port"] == 4570 and p["targetPort"] in ("proxy", 4570) for p in svc["spec"]["ports"]))

pdb = docs["PodDisruptionBudget"]
check("PodDisruptionBudget is policy/v1 and selects the pods",
      pdb["apiVersion"] == "policy/v1" and pdb["spec"]["selector"]["matchLabels"].items() <= labels.items())
check("PodDisruptionBudget keeps some pods", pdb["spec"].get("minAvailable", 0) >= 1 or "maxUnavailable" in pdb["spec"])

hpa = docs["HorizontalPodAutoscaler"]
target = hpa["spec"]["scaleTargetRef"]
check("HPA is autoscaling/v2 and scales this Deployment",
      hpa["apiVersion"] == "autoscaling/v2" and target["kind"] == "Deployment" and target["name"] == dep["metadata"]["name"])
check("HPA bounds: 1 <= min <= max, min >= PDB minAvailable",
      1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] and hpa["spec"]["minReplicas"] >= pdb["spec"].get("minAvailable", 0))
check("HPA needs CPU requests to work", "cpu" in res["requests"])

# The mtls overlay (deploy/kubernetes/mtls): TLS and client certificates from a
# Secret volume that rotation can follow (docs/protocol.md "Client certificates", "Rotation").
overlay = root / "mtls"
okust = yaml.safe_load((overlay / "kustomization.yaml").read_text())
patches = {}
for entry in okust.get("patches", []):
    doc = yaml.safe_load((overlay / entry["path"]).read_text())
    patches[doc["kind"]] = doc
check("mtls overlay: built on the base, patches the Deployment and the Service",
      okust.get("resources") == [".."] and set(patches) == {"Deployment", "Service"}
      and patches["Deployment"]["metadata"]["name"] == dep["metadata"]["name"]
      and patches["Service"]["metadata"]["name"] == svc["metadata"]["name"])
tpod = patches["Deployment"]["spec"]["template"]["spec"]
tcontainer = next(c for c in tpod["containers"] if c["name"] == container["name"])
tenv = {e["name"]: e.get("value") for e in tcontainer.get("env", [])}
check("mtls overlay: every env name is a setting the server knows", set(tenv) <= known)
mounts = {m["name"]: m for m in tcontainer.get("volumeMounts", [])}
volumes = {v["name"]: v for v in tpod.get("volumes", [])}
secret_mounts = [m for name, m in mounts.items() if "secret" in volumes.get(name, {})]
check("mtls overlay: the certificate is a Secret volume, mounted read-only and whole (no subPath: "
      "a subPath mount never sees the kubelet's ..data swap, so rotation could not work)",
      len(secret_mounts) == 1 and secret_mounts[0].get("readOnly") is True and "subPath" not in secret_mounts[0]
      and "subPathExpr" not in secret_mounts[0])
mount = secret_mounts[0]["mountPath"] if secret_mounts else "/nowhere"
secret = volumes[secret_mounts[0]["name"]]["secret"] if secret_mounts else {}
check("mtls overlay: certificate, key and client CAs are the Secret's tls.crt, tls.key, ca.crt under the mount",
      tenv.get("ECHO_TLS_CERTIFICATE") == f"{mount}/tls.crt" and tenv.get("ECHO_TLS_PRIVATE_KEY") == f"{mount}/tls.key"
      and tenv.get("ECHO_TLS_CLIENT_CA") == f"{mount}/ca.crt" and "items" not in secret)
check("mtls overlay: client certificates asked for (request or require)",
      tenv.get("ECHO_TLS_CLIENT_AUTH") in ("request", "require"))
check("mtls overlay: the files readable by uid 10001 (fsGroup 10001, group-readable mode)",
      tpod.get("securityContext", {}).get("fsGroup") == psc["runAsGroup"] == 10001
      and (secret.get("defaultMode", 0o644) & 0o040) != 0 and (secret.get("defaultMode", 0o644) & 0o007) == 0)
check("mtls overlay: reload interval below the kubelet's Secret sync (about 60 s)",
      0 < float(tenv.get("ECHO_TLS_RELOAD_SECONDS", 5)) < 60)
tports = {p["name"]: p["containerPort"] for p in tcontainer.get("ports", [])}
check("mtls overlay: ports tls 4568 and proxy-tls 4571, as ECHO_TLS_PORT and ECHO_PROXY_TLS_PORT say",
      tports == {"tls": 4568, "proxy-tls": 4571} and tenv.get("ECHO_TLS_PORT") == "4568"
      and tenv.get("ECHO_PROXY_TLS_PORT") == "4571")
sports = {p["name"]: (p["port"], p["targetPort"]) for p in patches["Service"]["spec"]["ports"]}
check("mtls overlay: the Service exposes both TLS ports",
      sports == {"tls": (4568, "tls"), "proxy-tls": (4571, "proxy-tls")})

print(f"kubernetes manifests: {'all checks passed' if failures == 0 else f'{failures} failed'}")
sys.exit(1 if failures else 0)
