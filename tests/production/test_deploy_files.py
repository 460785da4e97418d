"""deploy/ agrees with itself and with the code, checked offline.

The images cannot be built here and there is no cluster, so this checks what would otherwise
only fail at deploy time: the manifests render (`kubectl kustomize`), every image they run is
built by a Dockerfile here on the official base image of the version we pin, each image holds
the code and libraries its processes import, Services and Ingresses point at ports that exist,
probes use the endpoints the servers serve (tests/production/test_two_replicas.py calls those
same paths on live servers), Secrets are referenced by name and never written, and every
variable a container is given is one the code reads, and the other way round.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any, Dict, List, Set

import pytest
from ruamel.yaml import YAML

from scripts.cluster import RASA_LIVE, RASA_READY, SERVICE_LIVE, SERVICE_READY
from scripts.stack import ROOT
from tests.production.deploy_files import (
    BASE_DISTRIBUTIONS,
    IMAGES,
    K8S,
    RASA_VARIABLES,
    containers,
    distribution_closure,
    distributions_of,
    env_names,
    image_name,
    kustomize,
    package_modules,
    pod_specs,
    reachable_modules,
    read_dockerfile,
    requirement_names,
    secret_refs,
    variables_read,
    yaml_variables,
)

OVERLAY = K8S / "overlays" / "production"
K8S_CREDENTIALS = ROOT / "deploy" / "rasa" / "credentials.yml"
PROBES = {
    "careers-rasa": {RASA_LIVE, RASA_READY},
    "careers-actions": {SERVICE_LIVE, SERVICE_READY},
    "careers-desk": {SERVICE_LIVE, SERVICE_READY},
}
# Imports inside functions that the image's processes never call.
NEVER_CALLED: Set[tuple[str, str]] = set()
# The images whose processes open PostgreSQL (the tracker store, the desk's tables).
DATABASE_IMAGES = {"careers-rasa", "careers-desk"}
METRICS = {
    "careers-rasa": "/webhooks/ops/metrics",
    "careers-actions": "/metrics",
    "careers-desk": "/metrics",
}


def pinned(name: str) -> str:
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(name)}==(\S+)$", text, re.MULTILINE | re.IGNORECASE)
    assert match, f"{name} is not pinned in requirements.txt"
    return match.group(1)


def yaml_file(path: Any) -> Any:
    """The file's structure; ${VAR}s left as text (Rasa's YAML hooks would expand them)."""
    if not path.exists():
        return None
    text = re.sub(r"\$\{([A-Z0-9_]+)\}", r"\1", path.read_text(encoding="utf-8"))
    return YAML(typ="safe").load(text)


@pytest.fixture(scope="module")
def rendered() -> List[Dict[str, Any]]:
    try:
        return kustomize(OVERLAY)
    except FileNotFoundError:
        pytest.skip("kubectl is not installed, so the manifests cannot be rendered")


def entry_modules(image: str) -> List[str]:
    """The modules each image's processes start from."""
    dockerfile = read_dockerfile(IMAGES[image])
    entries = []
    if dockerfile.entrypoint[:2] == ["python", "-m"]:
        entries.append(dockerfile.entrypoint[2])
    for run in dockerfile.runs:
        entries += re.findall(r"python -m ([\w.]+)", run)
    if image == "careers-rasa":
        config = yaml_file(ROOT / "config.yml")
        named = [item["name"] for item in config["pipeline"] + config["policies"]]
        named += list(yaml_file(K8S_CREDENTIALS) or {})
        for section in (yaml_file(ROOT / "endpoints.prod.yml") or {}).values():
            if isinstance(section, dict):
                named.append(str(section.get("type", "")))
        # A class path names its module; `python -m` in the CronJob names one too.
        entries += [name.rsplit(".", 1)[0] for name in named if "." in name]
        entries.append("privacy.purge")
    else:
        entries += package_modules(image.removeprefix("careers-"))
    return entries


# --- Dockerfiles ---------------------------------------------------------------------------


def test_images_build_on_the_official_images_of_the_versions_we_pin() -> None:
    rasa = read_dockerfile(IMAGES["careers-rasa"])
    actions = read_dockerfile(IMAGES["careers-actions"])
    desk = read_dockerfile(IMAGES["careers-desk"])
    assert (rasa.base_image, rasa.base_tag) == ("rasa/rasa", pinned("rasa"))
    assert (actions.base_image, actions.base_tag) == ("rasa/rasa-sdk", pinned("rasa-sdk"))
    # The desk runs no model: plain Python 3.10, the version Rasa's images carry. That it
    # reaches no Rasa module is checked with every image's imports below.
    assert (desk.base_image, desk.base_tag) == ("python", "3.10-slim")
    assert "rasa" not in requirement_names(desk.requirements)


def test_the_cluster_has_every_production_channel_and_instagram() -> None:
    cluster = set(yaml_file(K8S_CREDENTIALS))
    assert set(yaml_file(ROOT / "credentials.prod.yml")) <= cluster
    assert "channels.instagram.InstagramInput" in cluster
    args = read_dockerfile(IMAGES["careers-rasa"]).cmd
    assert args[args.index("--credentials") + 1] == "credentials.k8s.yml"


def test_everything_the_dockerfiles_copy_exists() -> None:
    built_by_make = {"models/careers.tar.gz"}  # `make train` writes it; the image needs it
    for path in IMAGES.values():
        for source in read_dockerfile(path).copies:
            if source not in built_by_make:
                assert (ROOT / source).exists(), f"{path.relative_to(ROOT)} copies {source}"


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_each_image_holds_the_code_and_libraries_its_processes_import(image: str) -> None:
    dockerfile = read_dockerfile(IMAGES[image])
    modules, third_party = reachable_modules(entry_modules(image))

    needed_packages = {module.split(".")[0] for module in modules}
    assert needed_packages - dockerfile.copied_packages() == set()

    installed = distribution_closure(requirement_names(dockerfile.requirements))
    base = BASE_DISTRIBUTIONS[dockerfile.base_image]
    if base:
        installed |= distribution_closure([base])
    missing = {
        name
        for name in third_party
        if not distributions_of(name) & installed and (image, name) not in NEVER_CALLED
    }
    assert missing == set(), f"{image} imports {missing} but its image does not install them"
    # The driver is not imported by name: SQLAlchemy loads it from the URL.
    assert ("psycopg2-binary" in installed) == (image in DATABASE_IMAGES)


def test_the_action_server_image_holds_no_desk_code_and_no_database_library() -> None:
    """The action server reaches the desk over HTTP only (actions/desk_client.py)."""
    actions = read_dockerfile(IMAGES["careers-actions"])
    assert actions.copied_packages() & {"desk", "scripts"} == set()
    privacy = [source for source in actions.copies if source.startswith("privacy")]
    # Only privacy's modules that name no desk table, never the whole folder.
    assert privacy and "privacy/" not in privacy
    modules, _ = reachable_modules(entry_modules("careers-actions"))
    assert not [module for module in modules if module.split(".")[0] in {"desk", "scripts"}]
    installed = distribution_closure(requirement_names(actions.requirements))
    installed |= distribution_closure([BASE_DISTRIBUTIONS[actions.base_image] or ""])
    assert installed & {"sqlalchemy", "alembic", "psycopg2-binary"} == set()


def test_the_rasa_image_holds_no_desk_code() -> None:
    """The Rasa server reaches the desk over HTTP only (the channel's live questions); the
    desk purges its own tables (python -m desk purge, in the desk's image)."""
    rasa = read_dockerfile(IMAGES["careers-rasa"])
    assert "desk" not in rasa.copied_packages()
    modules, _ = reachable_modules(entry_modules("careers-rasa"))
    assert not [module for module in modules if module.split(".")[0] == "desk"]


def test_no_image_copies_the_local_run_scripts() -> None:
    for image, path in IMAGES.items():
        assert "scripts" not in read_dockerfile(path).copied_packages(), image


# --- Kubernetes ----------------------------------------------------------------------------


def test_base_renders_too() -> None:
    try:
        objects = kustomize(K8S / "base")
    except FileNotFoundError:
        pytest.skip("kubectl is not installed")
    assert {obj["kind"] for obj in objects} >= {"Deployment", "Service", "Ingress", "CronJob"}


def test_every_image_the_manifests_run_is_built_here(rendered: List[Dict[str, Any]]) -> None:
    used = {
        image_name(container["image"])
        for _, spec in pod_specs(rendered)
        for container in containers(spec)
    }
    assert used == set(IMAGES)


def test_production_runs_at_least_two_of_everything(rendered: List[Dict[str, Any]]) -> None:
    deployments = {o["metadata"]["name"]: o for o in rendered if o["kind"] == "Deployment"}
    assert set(deployments) == {"careers-rasa", "careers-actions", "careers-desk"}
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] >= 2, name
        rolling = deployment["spec"]["strategy"]["rollingUpdate"]
        assert rolling["maxUnavailable"] == 0, name


def test_services_and_ingresses_point_at_ports_that_exist(rendered: List[Dict[str, Any]]) -> None:
    pods = {
        obj["metadata"]["name"]: obj["spec"]["template"]
        for obj in rendered
        if obj["kind"] == "Deployment"
    }
    services = {obj["metadata"]["name"]: obj for obj in rendered if obj["kind"] == "Service"}
    for name, service in services.items():
        selector = service["spec"]["selector"]
        matched = [
            template
            for template in pods.values()
            if selector.items() <= template["metadata"]["labels"].items()
        ]
        assert len(matched) == 1, f"Service {name} selects {len(matched)} Deployments"
        port_names = {port["name"] for c in matched[0]["spec"]["containers"] for port in c["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, name
    for ingress in (obj for obj in rendered if obj["kind"] == "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = services[backend["name"]]
                assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


def test_only_the_instagram_webhook_is_public(rendered: List[Dict[str, Any]]) -> None:
    public = next(o for o in rendered if o["metadata"]["name"] == "careers-public")
    paths = [p["path"] for rule in public["spec"]["rules"] for p in rule["http"]["paths"]]
    assert paths == ["/webhooks/instagram/webhook"]
    # Round-robin on purpose: no affinity annotation (see rasa.yaml and docs/operations.md).
    annotations = public["metadata"].get("annotations", {})
    assert not any("affinity" in key or "upstream-hash" in key for key in annotations)


def test_probes_use_the_health_endpoints_the_servers_serve(
    rendered: List[Dict[str, Any]],
) -> None:
    for obj in (o for o in rendered if o["kind"] == "Deployment"):
        name = obj["metadata"]["name"]
        template = obj["spec"]["template"]
        for container in template["spec"]["containers"]:
            assert "readinessProbe" in container and "livenessProbe" in container, name
            paths = {
                container[probe]["httpGet"]["path"]
                for probe in ("readinessProbe", "livenessProbe", "startupProbe")
                if probe in container
            }
            assert paths <= PROBES[name], name
            assert container["readinessProbe"]["httpGet"]["path"].endswith("/ready")
            assert container["livenessProbe"]["httpGet"]["path"].endswith("/live")
        assert template["metadata"]["annotations"]["prometheus.io/path"] == METRICS[name]


def test_every_container_has_resources(rendered: List[Dict[str, Any]]) -> None:
    for obj, spec in pod_specs(rendered):
        for container in containers(spec):
            resources = container.get("resources", {})
            where = f"{obj['metadata']['name']}/{container['name']}"
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), where
            assert "memory" in resources.get("limits", {}), where


def test_secrets_are_referenced_by_name_and_never_written(rendered: List[Dict[str, Any]]) -> None:
    assert not [obj for obj in rendered if obj["kind"] == "Secret"]
    secretish = re.compile(r"SECRET|PASSWORD|TOKEN")
    for obj, spec in pod_specs(rendered):
        for container in containers(spec):
            for entry in container.get("env", []):
                if secretish.search(entry["name"]):
                    assert "valueFrom" in entry, f"{entry['name']} in {obj['metadata']['name']}"
                value = str(entry.get("value", ""))
                # A URL may embed the password only as a reference to the Secret's variable.
                assert "://" not in value or "$(DB_PASSWORD)" in value or "@" not in value
    for obj in rendered:
        if obj["kind"] == "ConfigMap":
            assert not [key for key in obj["data"] if secretish.search(key)]


def test_every_variable_given_is_read_and_every_one_needed_is_given(
    rendered: List[Dict[str, Any]],
) -> None:
    reads: Dict[str, Set[str]] = {}
    for image, path in IMAGES.items():
        packages = read_dockerfile(path).copied_packages()
        reads[image] = variables_read(packages) | RASA_VARIABLES
        if image == "careers-rasa":
            reads[image] |= yaml_variables(ROOT / "endpoints.prod.yml")
            reads[image] |= yaml_variables(K8S_CREDENTIALS)

    config_keys: Set[str] = set()
    for obj in rendered:
        if obj["kind"] == "ConfigMap":
            config_keys |= set(obj["data"])
    read_anywhere = set().union(*reads.values())
    assert config_keys - read_anywhere == set(), "ConfigMap keys no code reads"

    for obj, spec in pod_specs(rendered):
        for container in containers(spec):
            image = image_name(container["image"])
            given = env_names(container, rendered)
            text = str(container.get("env", [])) + str(container.get("args", []))
            referenced = set(re.findall(r"\$\(([A-Z0-9_]+)\)", text))
            where = f"{obj['metadata']['name']}/{container['name']}"
            explicit = {entry["name"] for entry in container.get("env", [])}
            assert explicit - reads[image] - referenced == set(), f"{where}: never read"
            assert referenced - given == set(), f"{where}: $(...) of variables not set"
            if image == "careers-rasa" and container["name"] == "rasa":
                needed = yaml_variables(ROOT / "endpoints.prod.yml")
                assert needed - given == set(), "endpoints.prod.yml needs these"
            for secret, key in secret_refs(container):
                assert secret.startswith("careers-") and key in reads[image] | referenced


def test_the_action_servers_reach_the_desk_over_its_service_api(
    rendered: List[Dict[str, Any]],
) -> None:
    config = next(obj for obj in rendered if obj["kind"] == "ConfigMap")["data"]
    services = {obj["metadata"]["name"]: obj for obj in rendered if obj["kind"] == "Service"}
    host, _, port = config["DESK_URL"].removeprefix("http://").partition(":")
    assert host.endswith("careers-desk") and "careers-desk" in services
    assert int(port) in {p["port"] for p in services["careers-desk"]["spec"]["ports"]}
    assert config["DESK_PUBLIC_URL"].startswith("https://")
    token = ("careers-desk-service", "DESK_SERVICE_TOKEN")
    for obj, spec in pod_specs(rendered):
        for container in spec["containers"]:
            name = image_name(container["image"])
            given = env_names(container, rendered)
            if name == "careers-actions":
                assert token in secret_refs(container)
                assert not {"DESK_DATABASE_URL", "DB_PASSWORD"} & given
            if name == "careers-desk" and obj["kind"] == "Deployment":
                assert token in secret_refs(container)


def test_the_retention_cronjob_runs_each_stores_purge_in_its_owners_image(
    rendered: List[Dict[str, Any]],
) -> None:
    cronjob = next(obj for obj in rendered if obj["kind"] == "CronJob")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    containers = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    commands = {
        container["image"].split(":")[0].rsplit("/", 1)[-1]: container for container in containers
    }
    assert set(commands) == {"careers-rasa", "careers-desk"}
    tracker = commands["careers-rasa"]
    assert tracker["command"][:3] == ["python", "-m", "privacy.purge"]
    # The tracker store's purge reads endpoints.prod.yml and never the desk's database.
    assert "DESK_DATABASE_URL" not in env_names(tracker, rendered)
    assert commands["careers-desk"]["command"] == ["python", "-m", "desk", "purge"]
    assert "DESK_DATABASE_URL" in env_names(commands["careers-desk"], rendered)
    helps = {}
    for image, container in commands.items():
        helped = subprocess.run(
            [sys.executable, *container["command"][1:], "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert helped.returncode == 0, helped.stderr
        helps[image] = helped.stdout
    assert "--endpoints" in helps["careers-rasa"]
