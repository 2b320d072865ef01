"""deploy/kubernetes/: YAML that parses, renders with kustomize, and holds the promised properties."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from typing import Any

import pytest
import yaml

from tests.deploy.app_settings import is_setting, load, made_up_secret
from tests.support.live import ROOT
from tests.support.services import unavailable

K8S = ROOT / "deploy" / "kubernetes"
README = ROOT / "deploy" / "README.md"
APPS = {"idp": ("IDP_", 8000), "legacy-redirect": ("LEGACY_", 8001), "training-rp": ("RP_", 8002)}
#: What the operator puts into each Secret (deploy/README.md, "Secrets").
SECRET_KEYS = {
    "sso-idp": [
        "IDP_SECRET_KEY",
        "IDP_DATA_KEY",
        "IDP_OLD_DATA_KEYS",
        "IDP_DATABASE_URL",
        "IDP_REDIS_URL",
        "IDP_REALNAME_SOURCE_TOKEN",
    ],
    "sso-training-rp": [
        "RP_SECRET_KEY",
        "RP_CLIENT_SECRET",
        "RP_DATA_KEY",
        "RP_OLD_DATA_KEYS",
        "RP_DATABASE_URL",
    ],
}
SENSITIVE_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$|_KEYS$|DATABASE_URL|REDIS_URL")


def test_every_yaml_file_parses() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    assert len(files) >= 8
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
        assert docs, path
        for doc in docs:
            assert isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc, path


@cache
def rendered(directory: str) -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        unavailable("kubectl is not installed (its kustomize renders the manifests)")
        raise AssertionError("unreachable")
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S / directory)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d)


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def all_docs() -> tuple[dict[str, Any], ...]:
    return rendered("apps") + rendered("migrate")


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    specs = [
        (d["metadata"]["name"], d["spec"]["template"]["spec"])
        for d in all_docs()
        if d["kind"] in ("Deployment", "Job")
    ]
    specs += [
        (d["metadata"]["name"], d["spec"]["jobTemplate"]["spec"]["template"]["spec"])
        for d in all_docs()
        if d["kind"] == "CronJob"
    ]
    return specs


def test_the_apps_render_into_the_expected_objects() -> None:
    docs = rendered("apps")
    assert set(of_kind(docs, "Deployment")) == set(APPS)
    assert set(of_kind(docs, "Service")) == set(APPS)
    assert set(of_kind(docs, "PodDisruptionBudget")) == set(APPS)
    assert set(of_kind(docs, "HorizontalPodAutoscaler")) == {"idp"}
    assert of_kind(docs, "Ingress")
    assert all(d["metadata"].get("namespace") == "sso" for d in docs if d["kind"] != "Namespace")


def test_every_pod_runs_the_pinned_release_image() -> None:
    images = {c["image"] for _name, spec in pod_specs() for c in spec["containers"]}
    assert len(images) == 1
    assert len(pod_specs()) == 6
    image = images.pop()
    assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")


def test_probes_watch_healthz_and_readyz() -> None:
    for name, deployment in of_kind(rendered("apps"), "Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        ready = container["readinessProbe"]["httpGet"]["path"]
        # The notice page depends on nothing, so its readiness is its liveness.
        assert ready == ("/healthz" if name == "legacy-redirect" else "/readyz")
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        port = APPS[name][1]
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert f"0.0.0.0:{port}" in container["command"]
        assert container["command"][:3] == ["gunicorn", "--config", "/app/deploy/gunicorn/sso.conf.py"]


def test_every_pod_is_non_root_read_only_and_bounded() -> None:
    for name, spec in pod_specs():
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert "memory" in container["resources"]["limits"], name


def test_migrations_run_as_jobs_before_the_apps() -> None:
    jobs = of_kind(rendered("migrate"), "Job")
    commands = {
        name: job["spec"]["template"]["spec"]["containers"][0]["command"] for name, job in jobs.items()
    }
    assert commands == {
        "idp-db-upgrade": ["idp", "db", "upgrade"],
        "training-rp-db-upgrade": ["training-rp", "db", "upgrade"],
    }
    assert not of_kind(rendered("apps"), "Job")
    rotation = of_kind(rendered("migrate"), "CronJob")["idp-keys-rotate"]["spec"]
    assert rotation["concurrencyPolicy"] == "Forbid"
    assert rotation["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "sh",
        "-c",
        "idp keys rotate --alg RS256 && idp keys rotate --alg ES256",
    ]
    script = (K8S / "rollout.sh").read_text(encoding="utf-8")
    assert (
        script.index('apply -k "$here/migrate"')
        < script.index('wait_for_job "$job"')
        < script.index('apply -k "$here/apps"')
    )


def test_services_ingresses_and_budgets_point_at_real_pods() -> None:
    docs = rendered("apps")
    deployments = of_kind(docs, "Deployment")
    services = of_kind(docs, "Service")
    for name, service in services.items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        assert service["spec"]["ports"][0]["targetPort"] == "http"
    for name, budget in of_kind(docs, "PodDisruptionBudget").items():
        assert (
            budget["spec"]["selector"]["matchLabels"].items()
            <= deployments[name]["spec"]["template"]["metadata"]["labels"].items()
        )
        assert budget["spec"]["minAvailable"] < deployments[name]["spec"]["replicas"]
    hpa = of_kind(docs, "HorizontalPodAutoscaler")["idp"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "idp"}
    assert hpa["minReplicas"] >= 2
    for ingress in of_kind(docs, "Ingress").values():
        tls_hosts = {h for t in ingress["spec"]["tls"] for h in t["hosts"]}
        for rule in ingress["spec"]["rules"]:
            assert rule["host"] in tls_hosts
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] in services and backend["port"] == {"name": "http"}


def test_ingress_keeps_the_old_host_on_http_and_limits_bodies_and_sign_in() -> None:
    ingresses = of_kind(rendered("apps"), "Ingress")
    annotations = {name: i["metadata"].get("annotations", {}) for name, i in ingresses.items()}
    assert annotations["legacy-redirect"]["nginx.ingress.kubernetes.io/ssl-redirect"] == "false"
    assert annotations["idp"]["nginx.ingress.kubernetes.io/proxy-body-size"] == "6m"
    assert "nginx.ingress.kubernetes.io/limit-rps" in annotations["idp-login"]
    assert "nginx.ingress.kubernetes.io/limit-rps" in annotations["idp-token"]
    paths = {
        (rule["host"], p["path"]): name
        for name, i in ingresses.items()
        for rule in i["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert paths[("fuwu.most.gov.cn", "/login")] == "idp-login"
    assert paths[("fuwu.most.gov.cn", "/token")] == "idp-token"
    for host in ("fuwu.most.gov.cn", "otm.safea.gov.cn", "px.most.gov.cn"):
        assert paths[(host, "/metrics")] == "metrics-closed"


def test_no_secret_value_is_written_in_the_manifests() -> None:
    docs = all_docs()
    assert not [d for d in docs if d["kind"] == "Secret"]
    for config in (d for d in docs if d["kind"] == "ConfigMap"):
        for key, value in config["data"].items():
            assert not SENSITIVE_NAME.search(key), f"{key} belongs in a Secret"
            assert "@" not in value, f"{key} looks like a URL with credentials"
    for name, spec in pod_specs():
        for container in spec["containers"]:
            assert "env" not in container, f"{name}: settings come from the ConfigMap and the Secret only"
            secrets = [s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s]
            expected = {"legacy-redirect": []}.get(
                name, ["sso-training-rp" if "training" in name else "sso-idp"]
            )
            assert secrets == expected, name
    raw = "\n".join(p.read_text(encoding="utf-8") for p in K8S.rglob("*.yaml"))
    assert not re.search(r"BEGIN [A-Z ]*PRIVATE KEY", raw)
    assert not re.search(r"://[^/\s:@]*:[^/\s@]+@", raw), "credentials in a URL"
    assert not re.search(r"\b[A-Za-z0-9_-]{43}=?(?![A-Za-z0-9_-])", raw), "something shaped like a data key"


def test_every_secret_key_is_documented() -> None:
    readme = README.read_text(encoding="utf-8")
    for secret, keys in SECRET_KEYS.items():
        assert f"`{secret}`" in readme
        for key in keys:
            assert f"`{key}`" in readme, key


@pytest.mark.parametrize("app", sorted(APPS))
def test_settings_and_secrets_make_a_production_config_the_app_accepts(app: str) -> None:
    """The ConfigMap plus the referenced secrets (made up here) pass the app's own start-up checks."""
    prefix, _port = APPS[app]
    deployment = of_kind(rendered("apps"), "Deployment")[app]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    configs = of_kind(rendered("apps"), "ConfigMap")
    environ: dict[str, str] = {}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            environ.update(configs[source["configMapRef"]["name"]]["data"])
    for source in container["envFrom"]:
        if "secretRef" in source:
            environ.update({key: made_up_secret(key) for key in SECRET_KEYS[source["secretRef"]["name"]]})
    for name in environ:
        assert is_setting(name), f"{name} is not a setting of any app or of gunicorn"
    settings = load(prefix, environ)
    assert settings.production
