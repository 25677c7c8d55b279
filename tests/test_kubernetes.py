"""The Kubernetes manifests (deploy/kubernetes, docs/deployment.md), checked without a cluster.

Each kustomization is rendered by `render` below, a loader for the part of kustomize the manifests use
(resources, namespace, strategic-merge patches, ConfigMap generators without name hashes; anything else is
refused, so the loader cannot silently drop what kustomize would apply). Every rendered resource is validated
against the Kubernetes schemas `kubernetes-validate` ships; then what the platform asks of them: non-root
read-only containers with probes and resources, disruption budgets, the same environment as docker-compose.yml
for each service and relay, secrets from the one Secret, the gateway's configuration rewritten for the cluster
and checked by the real nginx, and NetworkPolicies evaluated for who may reach whom.
"""

from __future__ import annotations

import copy
import ipaddress
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from test_compose import CLUSTER_URL, COMPOSE_FILE, RELAY_PORT, RELAYS, REQUIRED, SERVICES, environment_of, interpolate
from test_gateway import nginx_binary

ROOT = Path(__file__).resolve().parents[1]
KUBERNETES_DIR = ROOT / "deploy" / "kubernetes"
BASE = KUBERNETES_DIR / "base"
NATS_CLUSTER = KUBERNETES_DIR / "overlays" / "nats-cluster"
SECRET_EXAMPLE = KUBERNETES_DIR / "secret.example.yaml"
NAMESPACE = "airside"
# The oldest Kubernetes the manifests are for (StatefulSet `ordinals` is GA from 1.31) and the newest schemas shipped.
KUBERNETES_VERSIONS = ("1.31.0", kubernetes_validate.utils.latest_version())
CLUSTER_NODES = ("nats-1", "nats-2", "nats-3")


# --- a loader for the part of kustomize the manifests use ---------------------------------------------------------


class KustomizeError(ValueError):
    """Something kustomize would do that this loader does not model, or would refuse itself."""


KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "resources", "patches", "configMapGenerator", "generatorOptions"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}


def resource_id(resource: dict[str, Any]) -> tuple[str, str, str | None]:
    return resource["kind"], resource["metadata"]["name"], resource["metadata"].get("namespace")


def inside(folder: Path, entry: str) -> Path:
    """A file of the kustomization: kustomize refuses one outside its folder (its default load restrictor)."""
    path = (folder / entry).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise KustomizeError(f"{entry}: outside {folder}, which kustomize refuses to read")
    return path


def all_named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "name" in item for item in items)


def merge_patch(target: Any, patch: Any) -> Any:
    """Strategic merge, as far as the manifests need it: maps merge key by key (null deletes a key); lists of
    named items (containers, env, ports, volumes) merge item by name, a new name appended; other lists are replaced."""
    if isinstance(target, dict) and isinstance(patch, dict):
        merged = dict(target)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = merge_patch(target[key], value) if key in target else copy.deepcopy(value)
        return merged
    if isinstance(target, list) and isinstance(patch, list) and all_named(target) and all_named(patch):
        merged_items = [copy.deepcopy(item) for item in target]
        for item in patch:
            index = next((i for i, existing in enumerate(merged_items) if existing["name"] == item["name"]), None)
            if index is None:
                merged_items.append(copy.deepcopy(item))
            else:
                merged_items[index] = merge_patch(merged_items[index], item)
        return merged_items
    return copy.deepcopy(patch)


def config_map_from_files(folder: Path, generator: dict[str, Any]) -> dict[str, Any]:
    unknown = set(generator) - {"name", "files"}
    if unknown:
        raise KustomizeError(f"configMapGenerator {generator.get('name')}: {sorted(unknown)} not modelled")
    data = {}
    for entry in generator["files"]:
        key, _, path = entry.partition("=") if "=" in entry else (Path(entry).name, "", entry)
        data[key] = inside(folder, path).read_text()
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}


def render(folder: Path) -> list[dict[str, Any]]:
    """What `kubectl kustomize <folder>` prints, as resources."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    if kustomization.get("kind") != "Kustomization":
        raise KustomizeError(f"{folder}: not a Kustomization")
    unknown = set(kustomization) - KUSTOMIZATION_FIELDS
    if unknown:
        raise KustomizeError(f"{folder}: {sorted(unknown)} not modelled by this loader")

    resources: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = folder / entry
        if path.is_dir():  # another kustomization: kustomize reads it with its own folder as the root
            resources += render(path)
        else:
            resources += [document for document in yaml.safe_load_all(inside(folder, entry).read_text()) if document]

    if kustomization.get("configMapGenerator"):
        if kustomization.get("generatorOptions") != {"disableNameSuffixHash": True}:
            raise KustomizeError(f"{folder}: generated names with a content hash are not modelled")
        resources += [config_map_from_files(folder, generator) for generator in kustomization["configMapGenerator"]]

    for entry in kustomization.get("patches", []):
        if set(entry) != {"path"}:
            raise KustomizeError(f"{folder}: patch {entry}: only `path` (a strategic-merge patch) is modelled")
        patch = yaml.safe_load(inside(folder, entry["path"]).read_text())
        targets = [i for i, r in enumerate(resources) if (r["kind"], r["metadata"]["name"]) == (patch["kind"], patch["metadata"]["name"])]
        if len(targets) != 1:
            raise KustomizeError(f"{entry['path']}: {len(targets)} resources named {patch['kind']}/{patch['metadata']['name']}")
        resources[targets[0]] = merge_patch(resources[targets[0]], patch)

    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = kustomization["namespace"]

    ids = [resource_id(resource) for resource in resources]
    duplicated = {identity for identity in ids if ids.count(identity) > 1}
    if duplicated:
        raise KustomizeError(f"{folder}: {sorted(duplicated, key=str)} declared more than once")
    return resources


def write(folder: Path, files: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(content if isinstance(content, str) else yaml.safe_dump_all(content))
    return folder


KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}


def test_the_loader_renders_resources_generators_patches_and_the_namespace(tmp_path):
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "paused": False,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "args": ["a", "b"], "env": [{"name": "KEEP", "value": "1"}, {"name": "CHANGE", "value": "1"}]}
                    ]
                }
            },
        },
    }
    write(
        tmp_path / "config",
        {
            "kustomization.yaml": [
                {
                    **KUSTOMIZATION,
                    "generatorOptions": {"disableNameSuffixHash": True},
                    "configMapGenerator": [{"name": "conf", "files": ["a.conf", "renamed=b.conf"]}],
                }
            ],
            "a.conf": "A\n",
            "b.conf": "B\n",
        },
    )
    write(
        tmp_path / "base",
        {
            "kustomization.yaml": [{**KUSTOMIZATION, "namespace": "shop", "resources": ["web.yaml", "../config"]}],
            "web.yaml": [deployment, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}],
        },
    )
    patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "paused": None,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "args": ["c"], "env": [{"name": "CHANGE", "value": "2"}, {"name": "NEW", "value": "3"}]},
                        {"name": "sidecar"},
                    ]
                }
            },
        },
    }
    write(
        tmp_path / "overlay",
        {"kustomization.yaml": [{**KUSTOMIZATION, "resources": ["../base"], "patches": [{"path": "patch.yaml"}]}], "patch.yaml": [patch]},
    )

    rendered = {resource["kind"]: resource for resource in render(tmp_path / "overlay")}
    assert rendered["Namespace"]["metadata"] == {"name": "shop"}, "cluster-scoped: no namespace"
    assert rendered["ConfigMap"] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "conf", "namespace": "shop"},
        "data": {"a.conf": "A\n", "renamed": "B\n"},
    }
    web = rendered["Deployment"]
    assert web["metadata"]["namespace"] == "shop"
    assert web["spec"]["replicas"] == 3 and "paused" not in web["spec"]
    containers = web["spec"]["template"]["spec"]["containers"]
    assert [container["name"] for container in containers] == ["web", "sidecar"]
    assert containers[0]["args"] == ["c"], "a list without names is replaced"
    assert containers[0]["env"] == [{"name": "KEEP", "value": "1"}, {"name": "CHANGE", "value": "2"}, {"name": "NEW", "value": "3"}]
    assert deployment["spec"]["replicas"] == 1, "the base's documents are not changed in place"


@pytest.mark.parametrize(
    ("kustomization", "files", "refused"),
    [
        ({"images": [{"name": "web", "newTag": "2"}]}, {}, "not modelled"),
        ({"resources": ["../outside.yaml"]}, {}, "outside"),
        ({"patches": [{"path": "patch.yaml", "target": {"kind": "Deployment"}}]}, {"patch.yaml": "kind: Deployment\n"}, "only `path`"),
        ({"patches": [{"path": "patch.yaml"}]}, {"patch.yaml": "kind: Deployment\nmetadata: {name: missing}\n"}, "0 resources"),
        ({"configMapGenerator": [{"name": "conf", "files": ["a.conf"]}]}, {"a.conf": "A"}, "content hash"),
        ({"resources": ["one.yaml", "one.yaml"]}, {"one.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"}, "more than once"),
    ],
)
def test_the_loader_refuses_what_it_does_not_model(tmp_path, kustomization, files, refused):
    (tmp_path / "outside.yaml").write_text("kind: ConfigMap\n")
    write(tmp_path / "k", {"kustomization.yaml": [{**KUSTOMIZATION, **kustomization}], **files})
    with pytest.raises(KustomizeError, match=refused):
        render(tmp_path / "k")


# --- the rendered manifests ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return render(BASE)


@pytest.fixture(scope="module")
def cluster() -> list[dict[str, Any]]:
    return render(NATS_CLUSTER)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), REQUIRED)


def renders() -> list[Any]:
    return [pytest.param(BASE, id="base"), pytest.param(NATS_CLUSTER, id="nats-cluster")]


def named(resources: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(resource for resource in resources if (resource["kind"], resource["metadata"]["name"]) == (kind, name))


def workloads(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [resource for resource in resources if resource["kind"] in {"Deployment", "StatefulSet", "Job"}]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("folder", renders())
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_resource_is_valid_against_the_kubernetes_schemas(folder, version):
    resources = render(folder)
    assert {"Namespace", "Deployment", "StatefulSet", "Service", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap"} <= {
        resource["kind"] for resource in resources
    }
    for resource in [*resources, yaml.safe_load(SECRET_EXAMPLE.read_text())]:
        kubernetes_validate.validate(resource, version, strict=True)
        assert resource["metadata"].get("namespace", NAMESPACE) == NAMESPACE, resource_id(resource)


def test_schema_validation_catches_a_broken_resource(base):
    deployment = copy.deepcopy(named(base, "Deployment", "booking"))
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)
    misspelt = copy.deepcopy(named(base, "Deployment", "booking"))
    misspelt["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = misspelt["spec"]["template"]["spec"]["containers"][0].pop(
        "readinessProbe"
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSIONS[-1], strict=True)


def test_every_manifest_in_the_folders_is_rendered():
    """A file left out of a kustomization would be a manifest nobody applies."""
    for folder in (BASE, NATS_CLUSTER):
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        listed = {*kustomization.get("resources", []), *(patch["path"] for patch in kustomization.get("patches", []))}
        assert {path.name for path in folder.glob("*.yaml")} - {"kustomization.yaml"} <= listed, folder


# --- what every pod asks of the cluster --------------------------------------------------------------------------

CPU_UNITS = {"m": 0.001, "": 1.0}
MEMORY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "": 1}


def quantity(value: str | int, units: dict[str, float]) -> float:
    text = str(value)
    suffix = next((unit for unit in sorted(units, key=len, reverse=True) if unit and text.endswith(unit)), "")
    return float(text.removesuffix(suffix)) * units[suffix]


@pytest.mark.parametrize("folder", renders())
def test_every_container_runs_non_root_read_only_probed_and_limited(folder):
    for workload in workloads(render(folder)):
        name, spec = workload["metadata"]["name"], pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, f"{name}: nothing here talks to the Kubernetes API"
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            where = f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            assert security.get("runAsUser", 1) != 0 and security.get("privileged") is not True, where
            resources = container["resources"]
            for resource, units in (("cpu", CPU_UNITS), ("memory", MEMORY_UNITS)):
                request, limit = resources["requests"][resource], resources["limits"][resource]
                assert 0 < quantity(request, units) <= quantity(limit, units), f"{where}: {resource}"
        for container in spec["containers"]:
            where = f"{name}/{container['name']}"
            assert container["readinessProbe"]["httpGet"] and container["livenessProbe"]["httpGet"], where


@pytest.mark.parametrize(("name", "port"), SERVICES.items())
def test_each_service_and_relay_is_probed_where_it_serves(base, name, port):
    service = pod_spec(named(base, "Deployment", name))["containers"][0]
    ports = {entry["name"]: entry["containerPort"] for entry in service["ports"]}
    assert ports == {"http": port}
    assert (service["readinessProbe"]["httpGet"], service["livenessProbe"]["httpGet"]) == (
        {"path": "/readyz", "port": "http"},
        {"path": "/healthz", "port": "http"},
    )
    # The service migrates its database before it listens: a startup probe holds the liveness probe off meanwhile.
    startup = service["startupProbe"]
    assert startup["httpGet"]["path"] == "/healthz" and startup["periodSeconds"] * startup["failureThreshold"] >= 120
    assert named(base, "Deployment", name)["spec"]["replicas"] >= 2, "a rolling update or a drain keeps one serving"

    relay_spec = pod_spec(named(base, "Deployment", f"{name}-relay"))
    relay = relay_spec["containers"][0]
    assert relay["image"] == service["image"], "the service's own image"
    assert relay["command"] == ["airside", "relay", name], "as compose runs it"
    assert {entry["name"]: entry["containerPort"] for entry in relay["ports"]} == {"probes": RELAY_PORT}
    assert (relay["readinessProbe"]["httpGet"], relay["livenessProbe"]["httpGet"]) == (
        {"path": "/readyz", "port": "probes"},
        {"path": "/healthz", "port": "probes"},
    )
    # compose's depends_on <service>: service_healthy, as an init container waiting for the service's /readyz.
    (waiting,) = relay_spec["initContainers"]
    assert waiting["image"] == service["image"]
    assert f"http://{name}:{port}/readyz" in waiting["command"][-1]


@pytest.mark.parametrize("folder", renders())
def test_every_workload_has_a_disruption_budget_and_every_service_selects_pods(folder):
    resources = render(folder)
    budgets = [resource for resource in resources if resource["kind"] == "PodDisruptionBudget"]
    pods = {workload["metadata"]["name"]: workload["spec"]["template"] for workload in workloads(resources)}
    for name, template in pods.items():
        labels = template["metadata"]["labels"]
        covering = [budget for budget in budgets if selects(budget["spec"]["selector"]["matchLabels"], labels)]
        assert len(covering) == 1, f"{name}: {len(covering)} disruption budgets"
        assert covering[0]["spec"].get("maxUnavailable") == 1, name
        assert selects(named(resources, workload_kind(resources, name), name)["spec"]["selector"]["matchLabels"], labels), name
    for service in (resource for resource in resources if resource["kind"] == "Service"):
        selector = service["spec"]["selector"]
        chosen = [template for template in pods.values() if selects(selector, template["metadata"]["labels"])]
        if "statefulset.kubernetes.io/pod-name" in selector:  # one node of the cluster: the StatefulSet's pod of that name
            chosen = [pods["nats"]]
        assert chosen, f"Service {service['metadata']['name']} selects no pod"
        for port in service["spec"]["ports"]:
            container_ports = {
                entry["name"] for template in chosen for container in template["spec"]["containers"] for entry in container["ports"]
            }
            assert port["targetPort"] in container_ports, (service["metadata"]["name"], port)


def workload_kind(resources: list[dict[str, Any]], name: str) -> str:
    return next(workload["kind"] for workload in workloads(resources) if workload["metadata"]["name"] == name)


# --- the same environment as compose, the secrets from the one Secret ----------------------------------------------


def container_environment(resources: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, Any]:
    """Every variable the container gets: its ConfigMaps' keys (envFrom), then its own entries, as the kubelet sets them."""
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        env |= named(resources, "ConfigMap", source["configMapRef"]["name"])["data"]
    for entry in container.get("env", []):
        env[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return env


def environment_difference(compose_env: dict[str, str], manifest_env: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The variable names compose declares that the manifests lack, and the other way round."""
    return set(compose_env) - set(manifest_env), set(manifest_env) - set(compose_env)


def deployment_environment(resources: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return container_environment(resources, pod_spec(named(resources, "Deployment", name))["containers"][0])


@pytest.mark.parametrize("folder", renders())
@pytest.mark.parametrize("name", [*SERVICES, *RELAYS])
def test_the_manifests_declare_the_environment_compose_declares(compose, folder, name):
    compose_env, manifest_env = environment_of(compose["services"][name]), deployment_environment(render(folder), name)
    only_compose, only_manifests = environment_difference(compose_env, manifest_env)
    assert not only_compose, f"{name}: in docker-compose.yml, not in deploy/kubernetes: {sorted(only_compose)}"
    assert not only_manifests, f"{name}: in deploy/kubernetes, not in docker-compose.yml: {sorted(only_manifests)}"
    service = RELAYS.get(name, name)
    for variable in ("AIRSIDE_ENV", "AIRSIDE_RELAY", "AIRSIDE_NATS_USER", f"{service.upper()}_PORT", "AIRSIDE_STREAM_MAX_AGE_DAYS"):
        assert manifest_env[variable] == compose_env[variable], (name, variable)


def test_the_environment_comparison_fails_when_either_side_gains_a_variable(compose, base):
    compose_env, manifest_env = environment_of(compose["services"]["booking"]), deployment_environment(base, "booking")
    assert environment_difference(compose_env, manifest_env) == (set(), set())
    assert environment_difference({**compose_env, "AIRSIDE_NEW": "1"}, manifest_env) == ({"AIRSIDE_NEW"}, set())
    config = copy.deepcopy(base)
    named(config, "ConfigMap", "airside-config")["data"]["AIRSIDE_OTHER"] = "1"
    assert environment_difference(compose_env, deployment_environment(config, "booking")) == (set(), {"AIRSIDE_OTHER"})


def mounted_secret_files(resources: list[dict[str, Any]], workload: str) -> dict[str, str]:
    """The files the workload's first container reads from airside-secrets: path -> the Secret's key."""
    spec = pod_spec(named(resources, workload_kind(resources, workload), workload))
    volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
    files = {}
    for mount in spec["containers"][0].get("volumeMounts", []):
        secret = volumes[mount["name"]].get("secret")
        if secret:
            assert secret["secretName"] == "airside-secrets" and mount.get("readOnly") is True, workload
            files |= {f"{mount['mountPath']}/{item['path']}": item["key"] for item in secret["items"]}
    return files


@pytest.mark.parametrize("name", [*SERVICES, *RELAYS])
def test_secrets_are_files_and_references_to_the_one_secret(base, name):
    """As in compose, the JWT secret and the NATS password are files (their *_FILE settings name them); the database
    URL comes from the Secret too. Each pod mounts only its own service's keys."""
    service = RELAYS.get(name, name)
    env, files = deployment_environment(base, name), mounted_secret_files(base, name)
    assert files[env["AIRSIDE_JWT_SECRET_FILE"]] == "jwt-secret"
    assert files[env["AIRSIDE_NATS_PASSWORD_FILE"]] == f"{service}-nats-password"
    assert sorted(files.values()) == sorted(["jwt-secret", f"{service}-nats-password"]), "no other service's secrets"
    assert env[f"{service.upper()}_DATABASE_URL"] == {"secretKeyRef": {"name": "airside-secrets", "key": f"{service}-database-url"}}
    assert not {"AIRSIDE_JWT_SECRET", "AIRSIDE_NATS_PASSWORD"} & set(env), "both a variable and its file would be refused"


def secret_keys_read(resources: list[dict[str, Any]]) -> set[str]:
    keys = set()
    for workload in workloads(resources):
        spec = pod_spec(workload)
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            for entry in container.get("env", []):
                reference = entry.get("valueFrom", {}).get("secretKeyRef")
                if reference:
                    assert reference["name"] == "airside-secrets", workload["metadata"]["name"]
                    keys.add(reference["key"])
        keys |= {item["key"] for volume in spec.get("volumes", []) if "secret" in volume for item in volume["secret"]["items"]}
    return keys


@pytest.mark.parametrize("folder", renders())
def test_every_secret_key_read_is_in_the_example_secret_and_every_key_there_is_read(folder):
    example = yaml.safe_load(SECRET_EXAMPLE.read_text())
    assert example["metadata"] == {"name": "airside-secrets", "namespace": NAMESPACE}
    assert secret_keys_read(render(folder)) == set(example["stringData"])


# --- the gateway ----------------------------------------------------------------------------------------------------


def render_gateway_config(base: list[dict[str, Any]], tmp_path: Path, resolv_conf: str) -> str:
    """Run the gateway's init container script here (real sh, awk, sed), its paths mapped into tmp_path."""
    spec = pod_spec(named(base, "Deployment", "gateway"))
    (init,) = spec["initContainers"]
    script = init["command"][-1]
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "resolv.conf").write_text(resolv_conf)
    (tmp_path / "gateway.conf").write_text(named(base, "ConfigMap", "gateway-config")["data"]["gateway.conf"])
    paths = {"/etc/resolv.conf": tmp_path / "resolv.conf", "/etc/airside/gateway.conf": tmp_path / "gateway.conf"}
    paths["/etc/nginx/conf.d/default.conf"] = tmp_path / "default.conf"
    for container_path, local in paths.items():
        assert container_path in script, container_path
        script = script.replace(container_path, str(local))
    subprocess.run([*init["command"][:-1], script], check=True, capture_output=True, text=True, timeout=30)
    return (tmp_path / "default.conf").read_text()


RESOLV_CONF = "search airside.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"


def test_the_gateway_serves_deploy_nginx_gateway_conf_rewritten_for_the_cluster_dns(base, tmp_path):
    original = (ROOT / "deploy" / "nginx" / "gateway.conf").read_text()
    assert named(base, "ConfigMap", "gateway-config")["data"] == {"gateway.conf": original}
    rendered = render_gateway_config(base, tmp_path, RESOLV_CONF)
    changed = [(before, after) for before, after in zip(original.splitlines(), rendered.splitlines(), strict=True) if before != after]
    assert ("resolver 127.0.0.11 valid=10s ipv6=off;", "resolver 10.96.0.10 valid=10s ipv6=off;") in changed
    upstreams = {
        (f"set $airside_upstream {name}:{port};", f"set $airside_upstream {name}.airside.svc.cluster.local:{port};")
        for name, port in SERVICES.items()
    }
    assert {(before.strip(), after.strip()) for before, after in changed} == {
        ("resolver 127.0.0.11 valid=10s ipv6=off;", "resolver 10.96.0.10 valid=10s ipv6=off;"),
        *upstreams,
    }, "only the resolver and the upstreams' names change"
    assert "127.0.0.11" not in rendered

    # Without a nameserver or search domain (a pod with dnsPolicy None, say) the init container fails instead.
    for case, resolv_conf in {"no-search": "nameserver 10.96.0.10\n", "no-nameserver": "search airside.svc.cluster.local\n"}.items():
        with pytest.raises(subprocess.CalledProcessError):
            render_gateway_config(base, tmp_path / case, resolv_conf)


def test_nginx_accepts_the_rewritten_gateway_config(base, tmp_path):
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed here (Debian package nginx): the rewritten config is checked only by text")
    rendered = render_gateway_config(base, tmp_path, RESOLV_CONF)
    (tmp_path / "default.conf").write_text(rendered.replace("/var/log/nginx/access.log", str(tmp_path / "access.log")))
    temp_paths = "".join(f"{kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'}; error_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{ {temp_paths} include {tmp_path / 'default.conf'}; }}\n"
    )
    checked = subprocess.run(
        [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log"), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr


# --- NATS: the single node and the cluster overlay --------------------------------------------------------------


def nats_container(resources: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = pod_spec(named(resources, "StatefulSet", "nats"))["containers"]
    return container


@pytest.mark.parametrize("folder", renders())
def test_nats_runs_the_deployed_configs_with_every_users_password(folder):
    resources = render(folder)
    files = {path.name: path.read_text() for path in (ROOT / "deploy" / "nats").glob("*.conf")}
    assert named(resources, "ConfigMap", "nats-config")["data"] == files
    container = nats_container(resources)
    passwords = {
        entry["name"]: entry["valueFrom"]["secretKeyRef"]["key"]
        for entry in container["env"]
        if "valueFrom" in entry and "secretKeyRef" in entry["valueFrom"]
    }
    assert passwords == {f"{user.upper()}_NATS_PASSWORD": f"{user}-nats-password" for user in (*SERVICES, "airline")}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert mounts["/etc/nats"] == "config"
    assert mounts["/data"] == "data" and "store_dir: /data/" in files["nats.conf"], "JetStream stores on the volume"
    statefulset = named(resources, "StatefulSet", "nats")
    assert [claim["metadata"]["name"] for claim in statefulset["spec"]["volumeClaimTemplates"]] == ["data"]


def test_the_base_runs_one_nats_node_the_services_reach_by_the_service_name(base):
    assert named(base, "StatefulSet", "nats")["spec"]["replicas"] == 1
    assert nats_container(base)["args"] == ["--config", "/etc/nats/nats.conf"]
    config = named(base, "ConfigMap", "airside-config")["data"]
    assert (config["AIRSIDE_NATS_URL"], config["AIRSIDE_STREAM_REPLICAS"]) == ("nats://nats:4222", "1")


def test_the_cluster_overlay_runs_three_routed_nodes_and_streams_with_three_replicas(cluster):
    statefulset = named(cluster, "StatefulSet", "nats")
    spec = statefulset["spec"]
    assert (spec["replicas"], spec["ordinals"]["start"], spec["podManagementPolicy"]) == (3, 1, "Parallel")
    pod_names = [f"nats-{spec['ordinals']['start'] + index}" for index in range(spec["replicas"])]
    assert tuple(pod_names) == CLUSTER_NODES
    container = nats_container(cluster)
    assert container["args"] == ["--config", "/etc/nats/$(POD_NAME).conf"]
    assert {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} in container["env"]
    assert {entry["name"]: entry["containerPort"] for entry in container["ports"]} == {"client": 4222, "monitor": 8222, "cluster": 6222}
    config_files = named(cluster, "ConfigMap", "nats-config")["data"]
    for pod in pod_names:
        # Its config names it, routes to every node by the Service names below, on the cluster port.
        config = config_files[f"{pod}.conf"]
        assert f"server_name: {pod}\n" in config
        assert all(f"nats-route://{node}:6222" in config for node in CLUSTER_NODES)
        node = named(cluster, "Service", pod)
        assert node["spec"]["selector"] == {"statefulset.kubernetes.io/pod-name": pod}
        assert {port["name"]: port["port"] for port in node["spec"]["ports"]} == {"client": 4222, "cluster": 6222}
        assert node["spec"]["publishNotReadyAddresses"] is True, "routes connect before a node is ready"
    config = named(cluster, "ConfigMap", "airside-config")["data"]
    assert (config["AIRSIDE_NATS_URL"], config["AIRSIDE_STREAM_REPLICAS"]) == (CLUSTER_URL, "3"), "as compose's cluster profile"
    base_config = named(render(BASE), "ConfigMap", "airside-config")["data"]
    assert {key: value for key, value in config.items() if key not in {"AIRSIDE_NATS_URL", "AIRSIDE_STREAM_REPLICAS"}} == {
        key: value for key, value in base_config.items() if key not in {"AIRSIDE_NATS_URL", "AIRSIDE_STREAM_REPLICAS"}
    }, "the overlay changes nothing else"


# --- NetworkPolicies, evaluated ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """A pod (its labels and named ports, in a namespace) or an address outside the cluster."""

    name: str
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    ports: dict[str, int] = field(default_factory=dict, hash=False)
    namespace: str | None = NAMESPACE
    address: str | None = None


INTERNET = Endpoint("internet", namespace=None, address="203.0.113.7")
POSTGRESQL = Endpoint("postgresql", namespace=None, address="10.20.0.5")  # the managed database, in the range the policies name
DNS = Endpoint("kube-dns", {"k8s-app": "kube-dns"}, {"dns": 53}, namespace="kube-system")


def pods(resources: list[dict[str, Any]]) -> dict[str, Endpoint]:
    found = {}
    for workload in workloads(resources):
        template = workload["spec"]["template"]
        ports = {
            entry["name"]: entry["containerPort"] for container in template["spec"]["containers"] for entry in container.get("ports", [])
        }
        found[workload["metadata"]["name"]] = Endpoint(workload["metadata"]["name"], template["metadata"]["labels"], ports)
    return found


def peer_matches(peer: dict[str, Any], endpoint: Endpoint) -> bool:
    if "ipBlock" in peer:
        if endpoint.address is None:
            return False
        address, block = ipaddress.ip_address(endpoint.address), peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except", [])
        )
    if endpoint.namespace is None:
        return False
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": endpoint.namespace}
        if not selects(peer["namespaceSelector"].get("matchLabels", {}), namespace_labels):
            return False
    elif endpoint.namespace != NAMESPACE:
        return False
    return selects(peer.get("podSelector", {}).get("matchLabels", {}), endpoint.labels)


def rule_allows(rule: dict[str, Any], peers_key: str, peer: Endpoint, destination: Endpoint, port: int, protocol: str) -> bool:
    if peers_key in rule and not any(peer_matches(candidate, peer) for candidate in rule[peers_key]):
        return False
    if "ports" not in rule:
        return True
    for allowed in rule["ports"]:
        number = destination.ports.get(allowed["port"]) if isinstance(allowed["port"], str) else allowed["port"]
        if number == port and allowed.get("protocol", "TCP") == protocol:
            return True
    return False


def side_allows(
    policies: list[dict[str, Any]], direction: str, pod: Endpoint, peer: Endpoint, destination: Endpoint, port: int, protocol: str
) -> bool:
    """Traffic is allowed on one side when no policy of that direction selects the pod, or one of their rules allows it."""
    if pod.namespace != NAMESPACE:
        return True  # outside the namespace: not ours to police
    selecting = [
        p
        for p in policies
        if direction in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"].get("matchLabels", {}), pod.labels)
    ]
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return not selecting or any(
        rule_allows(rule, peers_key, peer, destination, port, protocol)
        for policy in selecting
        for rule in policy["spec"].get(rules_key, [])
    )


def allowed(policies: list[dict[str, Any]], source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP") -> bool:
    return side_allows(policies, "Egress", source, destination, destination, port, protocol) and side_allows(
        policies, "Ingress", destination, source, destination, port, protocol
    )


@pytest.mark.parametrize("folder", renders())
def test_only_the_gateway_reaches_the_services_and_only_services_and_relays_reach_nats_and_postgresql(folder):
    resources = render(folder)
    policies = [resource for resource in resources if resource["kind"] == "NetworkPolicy"]
    pod = pods(resources)
    gateway, nats = pod["gateway"], pod["nats"]
    assert allowed(policies, INTERNET, gateway, 80)
    for name, port in SERVICES.items():
        service, relay = pod[name], pod[f"{name}-relay"]
        assert allowed(policies, gateway, service, port)
        assert allowed(policies, relay, service, port), "the relay's init container waits for the service's /readyz"
        assert not allowed(policies, INTERNET, service, port)
        assert not allowed(policies, nats, service, port)
        for other, other_port in SERVICES.items():
            if other != name:
                assert not allowed(policies, service, pod[other], other_port), f"{name} -> {other}: only through NATS"
                assert not allowed(policies, relay, pod[other], other_port), f"{name}-relay -> {other}"
        for client in (service, relay):
            assert allowed(policies, client, nats, 4222) and allowed(policies, client, POSTGRESQL, 5432), client.name
            assert not allowed(policies, client, nats, 6222), client.name
        assert allowed(policies, relay, INTERNET, 443), "partners' webhooks"
        assert not allowed(policies, service, INTERNET, 443), "the relay delivers webhooks, not the service"
        assert not allowed(policies, INTERNET, relay, RELAY_PORT) and not allowed(policies, gateway, relay, RELAY_PORT)
    for outsider in (INTERNET, gateway):
        assert not allowed(policies, outsider, nats, 4222), outsider.name
    assert not allowed(policies, gateway, POSTGRESQL, 5432) and not allowed(policies, nats, POSTGRESQL, 5432)
    assert not allowed(policies, gateway, INTERNET, 443)
    assert allowed(policies, nats, nats, 6222), "cluster routes"
    for endpoint in pod.values():
        assert allowed(policies, endpoint, DNS, 53, "UDP"), endpoint.name


def test_the_policy_evaluation_can_fail(base):
    """Without the default deny a pod no other policy selects for a direction is open that way: the evaluation says so."""
    policies = [resource for resource in base if resource["kind"] == "NetworkPolicy"]
    booking = pods(base)["booking"]
    assert not allowed(policies, booking, INTERNET, 443)
    without_default_deny = [policy for policy in policies if policy["metadata"]["name"] != "default-deny"]
    assert allowed(without_default_deny, booking, INTERNET, 443) is False, "the services policy still limits booking's egress"
    loose = [policy for policy in without_default_deny if policy["metadata"]["name"] not in {"services", "booking-answers-its-relay"}]
    assert allowed(loose, INTERNET, booking, 8001), "no policy selects booking for ingress: open"
