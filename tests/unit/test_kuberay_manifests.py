"""KubeRay manifests in manifests/k8s/: schema-level checks (no Kubernetes here) and the entrypoint against our CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from longtail.pipeline.cli.main import build_parser
from longtail.pipeline.manifest import parse_manifest

K8S_QUANTITY = re.compile(r"^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$")


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def ray_kinds(repo) -> dict[str, dict]:
    found = {}
    for path in sorted((repo / "manifests" / "k8s").glob("*.yaml")):
        for doc in documents(path):
            if doc.get("apiVersion") == "ray.io/v1":
                found[doc["kind"]] = doc
    return found


def requirements_ray_version(repo) -> str:
    match = re.search(r"^ray\[[^\]]*\]==([\d.]+)", (repo / "requirements.txt").read_text(), re.M)
    assert match, "ray is pinned in requirements.txt"
    return match.group(1)


def check_pod_template(template: dict, where: str) -> None:
    containers = template["spec"]["containers"]
    assert containers, f"{where}: no containers"
    for container in containers:
        assert container.get("name") and container.get("image"), f"{where}: container needs name and image"
        assert container["image"].rsplit("/", 1)[-1].startswith("longtail:"), f"{where}: not the longtail image (Dockerfile)"
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(kind) or {}), f"{where}: {kind} needs cpu and memory"
            for value in resources[kind].values():
                assert K8S_QUANTITY.match(str(value)), f"{where}: bad quantity {value!r}"
    mounted = {m["name"] for c in containers for m in c.get("volumeMounts", [])}
    declared = {v["name"] for v in template["spec"].get("volumes", [])}
    assert mounted <= declared, f"{where}: mounts {mounted - declared} have no volume"


def check_cluster_spec(spec: dict, ray_version: str, where: str) -> None:
    assert spec["rayVersion"] == ray_version, f"{where}: rayVersion must match the image's ray {ray_version}"
    head = spec["headGroupSpec"]
    assert isinstance(head["rayStartParams"], dict)
    check_pod_template(head["template"], f"{where}.headGroupSpec")
    assert spec["workerGroupSpecs"], f"{where}: needs worker groups"
    for group in spec["workerGroupSpecs"]:
        assert group["groupName"] and isinstance(group["rayStartParams"], dict)
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
        check_pod_template(group["template"], f"{where}.workerGroupSpecs[{group['groupName']}]")
        # one annotate actor per CPU: Ray's CPU count must equal the container's CPU limit
        container = group["template"]["spec"]["containers"][0]
        assert str(group["rayStartParams"]["num-cpus"]) == str(container["resources"]["limits"]["cpu"])


def test_rayjob_and_raycluster_have_the_fields_kuberay_requires(repo):
    kinds = ray_kinds(repo)
    assert {"RayJob", "RayCluster"} <= set(kinds)
    version = requirements_ray_version(repo)
    job = kinds["RayJob"]
    assert job["metadata"]["name"] and job["spec"]["entrypoint"]
    assert job["spec"]["submissionMode"] in ("K8sJobMode", "HTTPMode", "InteractiveMode", "SidecarMode")
    check_cluster_spec(job["spec"]["rayClusterSpec"], version, "RayJob.spec.rayClusterSpec")
    check_cluster_spec(kinds["RayCluster"]["spec"], version, "RayCluster.spec")


def test_rayjob_entrypoint_is_a_longtail_command(repo):
    entrypoint = shlex.split(ray_kinds(repo)["RayJob"]["spec"]["entrypoint"])
    assert entrypoint[0] == "longtail"
    args = build_parser().parse_args(entrypoint[1:])  # argparse exits on an unknown command or option
    assert args.command == "run" and args.address == "auto"
    assert callable(args.func)


def test_rayjob_mounts_the_run_manifest_it_runs_and_the_manifest_is_valid(repo):
    docs = [d for p in sorted((repo / "manifests" / "k8s").glob("*.yaml")) for d in documents(p)]
    job = next(d for d in docs if d.get("kind") == "RayJob")
    manifest_path = Path(shlex.split(job["spec"]["entrypoint"])[2])
    head = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]
    mount = next(m for m in head["containers"][0]["volumeMounts"] if manifest_path.is_relative_to(m["mountPath"]))
    volume = next(v for v in head["volumes"] if v["name"] == mount["name"])
    config_map = next(d for d in docs if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == volume["configMap"]["name"])
    text = config_map["data"][str(manifest_path.relative_to(mount["mountPath"]))]
    manifest = parse_manifest(yaml.safe_load(text), base_dir=manifest_path.parent)  # same schema as on a laptop
    # object storage is the default: no volume shared by the pods, every Ray pod has the bucket's credentials
    assert manifest.output.startswith("s3://") and all(i.startswith("https://") for i in manifest.inputs)
    pods = [job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]] + [g["template"]["spec"] for g in job["spec"]["rayClusterSpec"]["workerGroupSpecs"]]
    for pod in pods:
        assert not [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
        container = pod["containers"][0]
        assert {"secretRef": {"name": "longtail-s3"}} in container["envFrom"]
        assert {"name": "LONGTAIL_SCRATCH", "value": "/scratch"} in container["env"]


@pytest.mark.parametrize("name", ["rayjob.yaml", "raycluster.yaml"])
def test_manifests_use_the_image_the_dockerfile_builds(repo, name):
    dockerfile = (repo / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["longtail"]' in dockerfile and "/app/.venv/bin" in dockerfile
    images = {c["image"] for d in documents(repo / "manifests" / "k8s" / name) for c in _containers(d)}
    assert len(images) == 1, images


def _containers(doc):
    if doc.get("kind") == "RayJob":
        spec = doc["spec"]["rayClusterSpec"]
        yield from doc["spec"].get("submitterPodTemplate", {}).get("spec", {}).get("containers", [])
    elif doc.get("kind") == "RayCluster":
        spec = doc["spec"]
    else:
        return
    yield from spec["headGroupSpec"]["template"]["spec"]["containers"]
    for group in spec["workerGroupSpecs"]:
        yield from group["template"]["spec"]["containers"]
