"""--gpu, --bundled-ollama, --version: the image they choose, the GPU request, the bundled Ollama's volume.

No registry is reachable and the official images cannot be pulled here: the engine tests tag the fake Open
WebUI image locally under a test-only repository (`--image REPO` names a mirror: owui-dev adds the variant's
tag) and remove those tags afterwards. This engine has no GPU support, so `--gpu` meets the engine's own
refusal at the start; that the request is really on the container is shown by creating one and inspecting it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import UpProcess, run_cli
from fake_ollama import FakeOllama

from owui_dev.cli import cli
from owui_dev.config import build_up_settings
from owui_dev.errors import UsageError
from owui_dev.variants import OLLAMA_MODELS_PATH, GpuSupport, Variant, gpu_support, is_no_gpu_failure

OFFICIAL = "ghcr.io/open-webui/open-webui"

# (settings, the image `up` runs): the official tags, as Open WebUI's docs and release workflow make them.
RESOLUTION = [
    ({}, f"{OFFICIAL}:main"),
    ({"gpu": True}, f"{OFFICIAL}:cuda"),
    ({"bundled_ollama": True}, f"{OFFICIAL}:ollama"),
    ({"gpu": True, "bundled_ollama": True}, f"{OFFICIAL}:ollama"),  # the :ollama image runs on the GPU as it is
    ({"openwebui_version": "0.6.5"}, f"{OFFICIAL}:v0.6.5"),
    ({"openwebui_version": "v0.6.5"}, f"{OFFICIAL}:v0.6.5"),
    ({"openwebui_version": "0.12.4", "gpu": True}, f"{OFFICIAL}:v0.12.4-cuda"),
    ({"openwebui_version": "0.6.5", "bundled_ollama": True}, f"{OFFICIAL}:v0.6.5-ollama"),
    ({"openwebui_version": "0.6.5", "bundled_ollama": True, "gpu": True}, f"{OFFICIAL}:v0.6.5-ollama"),
    # --image alone is the image; with a variant it names a repository (a mirror) and the variant adds the tag.
    ({"image": "my.registry:5000/owui:pinned"}, "my.registry:5000/owui:pinned"),
    ({"image": "my.registry:5000/mirror/open-webui", "gpu": True}, "my.registry:5000/mirror/open-webui:cuda"),
    ({"image": "mirror/open-webui", "openwebui_version": "0.6.5", "gpu": True}, "mirror/open-webui:v0.6.5-cuda"),
]


@pytest.mark.parametrize(("given", "image"), RESOLUTION, ids=[json.dumps(g) for g, _ in RESOLUTION])
def test_the_image_follows_from_the_variant(given: dict[str, Any], image: str) -> None:
    settings = build_up_settings(**given, environ={})
    assert settings.image == image
    assert settings.variant.gpu == bool(given.get("gpu"))
    assert settings.variant.bundled_ollama == bool(given.get("bundled_ollama"))


BAD_VERSIONS = ["0.6", "latest", "main", "0.6.5-cuda", "v0.6.5.1", "0.6.x", ""]


@pytest.mark.parametrize("version", BAD_VERSIONS)
def test_a_version_that_is_no_release_number_is_a_usage_error(version: str) -> None:
    result = CliRunner().invoke(cli, ["up", "--version", version, "--json"], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    event = json.loads(result.stderr.strip())
    assert f"--version {version!r} is not an Open WebUI release version" in event["message"]
    assert "0.6.5" in event["hint"]


@pytest.mark.parametrize(
    "image", [f"{OFFICIAL}:main", "mirror/open-webui:cuda", f"{OFFICIAL}@sha256:" + "a" * 64, "localhost:5000/x:1"]
)
@pytest.mark.parametrize("variant", [["--gpu"], ["--bundled-ollama"], ["--version", "0.6.5"]])
def test_an_image_with_its_own_tag_and_a_variant_is_a_usage_error(image: str, variant: list[str]) -> None:
    result = CliRunner().invoke(
        cli, ["up", "--image", image, *variant, "--json"], env={"DOCKER_HOST": "tcp://127.0.0.1:9"}
    )
    assert result.exit_code == 2, result.output
    event = json.loads(result.stderr.strip())
    assert f"--image {image!r} names a tag, and {variant[0]} chooses the tag too" in event["message"]
    assert "repository alone" in event["hint"]


def test_the_variant_in_the_config_file_is_checked_against_its_image(tmp_path: Any) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[up]\nimage = "mirror/open-webui:main"\nbundled_ollama = true\n')
    result = CliRunner().invoke(cli, ["up", "--config", str(path)], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert f'{path}, line 2: image = "mirror/open-webui:main" names a tag' in result.output
    assert f"bundled_ollama ({path}, line 3)" in result.output


def test_owui_dev_version_stays_the_tools_version() -> None:
    from owui_dev import __version__

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"owui-dev, version {__version__}"


def test_the_version_is_given_to_up_not_taken_as_the_tools() -> None:
    # Accepted and validated by `up`: it gets as far as the engine (unreachable here: exit 3).
    result = CliRunner().invoke(cli, ["up", "--version", "0.6.5", "--json"], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 3, result.output


# -- what the engine says about GPUs ------------------------------------------------------------------

GPU_ANSWERS = [
    ({"Runtimes": {"runc": {"path": "runc"}}}, False, GpuSupport.UNKNOWN),
    ({"Runtimes": {"runc": {}, "nvidia": {"path": "nvidia-container-runtime"}}}, False, GpuSupport.YES),
    ({"Runtimes": {"runc": {}}, "CDISpecDirs": ["/etc/cdi"], "DiscoveredDevices": []}, False, GpuSupport.UNKNOWN),
    (
        {"Runtimes": {"runc": {}}, "DiscoveredDevices": [{"Source": "cdi", "ID": "nvidia.com/gpu=0"}]},
        False,
        GpuSupport.YES,
    ),
    ({"DiscoveredDevices": [{"Source": "cdi", "ID": "vendor.com/fpga=0"}]}, False, GpuSupport.UNKNOWN),
    ({}, False, GpuSupport.UNKNOWN),  # /info unreadable
    ({"Runtimes": {"nvidia": {}}}, True, GpuSupport.NO),  # a local engine on macOS: no NVIDIA GPU there
]


@pytest.mark.parametrize(("info", "macos_local", "support"), GPU_ANSWERS)
def test_what_the_engine_tells_about_gpus(info: dict[str, Any], macos_local: bool, support: GpuSupport) -> None:
    assert gpu_support(info, macos_local=macos_local).support is support


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ('could not select device driver "" with capabilities: [[gpu]]', True),
        ('could not select device driver "nvidia" with capabilities: [[gpu]]', True),
        ("driver failed programming external connectivity: port is already allocated", False),
    ],
)
def test_the_engines_gpu_refusal_is_recognised(text: str, refused: bool) -> None:
    assert is_no_gpu_failure(text) is refused


def test_a_variant_survives_the_containers_labels() -> None:
    for variant in [Variant(), Variant(gpu=True), Variant(bundled_ollama=True, gpu=True, version="0.6.5")]:
        assert Variant.from_labels(variant.labels()) == variant
    assert Variant.from_labels({}) is None


def test_a_bad_version_names_the_flag() -> None:
    with pytest.raises(UsageError) as caught:
        build_up_settings(openwebui_version="six", environ={})
    assert "--version 'six'" in caught.value.message


# -- against the real engine ---------------------------------------------------------------------------

TEST_TAGS = ("cuda", "ollama", "v0.6.5", "v0.6.5-ollama")


@pytest.fixture
def variant_repo(docker_client: Any, fake_image: str) -> Iterator[str]:
    """The fake Open WebUI under a test-only repository, with the variants' tags; the tags go afterwards."""
    repo = f"owui-dev-test-variants-{secrets.token_hex(4)}"
    image = docker_client.images.get(fake_image)
    for tag in TEST_TAGS:
        image.tag(repo, tag)
    yield repo
    for tag in TEST_TAGS:
        docker_client.images.remove(f"{repo}:{tag}", noprune=True)


def _with_image(args: list[str], image: str) -> list[str]:
    changed = list(args)
    changed[changed.index("--image") + 1] = image
    return changed


def _name(args: list[str]) -> str:
    return args[args.index("--name") + 1]


def test_gpu_on_an_engine_without_gpu_support_is_a_clear_error_with_nothing_left(
    docker_client: Any, args: list[str], env: dict[str, str], variant_repo: str
) -> None:
    result = run_cli("up", *_with_image(args, variant_repo), "--gpu", "--json", env=env)
    assert result.returncode == 5, result.stderr
    event = json.loads(result.stderr.strip().splitlines()[-1])
    assert event["message"].startswith("The Docker engine (")
    assert "refused the GPU request: could not select device driver" in event["message"]
    assert "Nothing is left running" in event["message"]
    assert "NVIDIA Container Toolkit" in event["hint"]
    assert "Traceback" not in result.stderr
    assert not docker_client.containers.list(all=True, filters={"name": _name(args)}), "the container was left"


def test_the_gpu_request_is_on_the_container(docker_client: Any, names: Any, variant_repo: str) -> None:
    """The engine accepts the request at create time (it refuses only at the start): inspect what it stored."""
    from owui_dev.docker_engine import ContainerSpec, DockerEngine
    from owui_dev.variants import models_volume

    engine = DockerEngine.connect()
    try:
        spec = ContainerSpec(
            names.container, f"{variant_repo}:ollama", 1, names.volume, gpu=True,
            models_volume=models_volume(names.container), labels=tuple(Variant(gpu=True).labels().items()),
        )  # fmt: skip
        names.extra_volumes.append(models_volume(names.container))
        info = engine.create(spec)
        attrs = docker_client.containers.get(names.container).attrs
    finally:
        engine.close()
    requests = attrs["HostConfig"]["DeviceRequests"] or []
    # `--gpus all`, as the docker CLI sends it (DeviceIDs reads back as null or [] depending on the engine).
    assert [(r["Driver"], r["Count"], r["Capabilities"], r["DeviceIDs"] or []) for r in requests] == [
        ("", -1, [["gpu"]], [])
    ]
    assert info.gpu
    assert info.models_volume == f"{names.container}-ollama"
    assert attrs["Config"]["Labels"]["owui-dev.variant"] == "gpu"


def test_bundled_ollama_runs_its_own_ollama_and_a_variant_change_recreates_the_container(
    docker_client: Any, names: Any, args: list[str], env: dict[str, str], variant_repo: str, up_processes: list[Any]
) -> None:
    name = _name(args)
    names.extra_volumes.append(f"{name}-ollama")
    args = _with_image(args, variant_repo)
    with FakeOllama(models=["llama3.2:1b"], host="0.0.0.0") as ollama:
        laptop = {**env, "OWUI_DEV_OLLAMA_URL": ollama.url}
        first = UpProcess([*args, "--version", "0.6.5", "--json"], laptop)
        up_processes.append(first)
        ready = first.wait_for_json()
        assert ready["variant"] == {"name": "standard", "gpu": False, "bundled_ollama": False, "version": "0.6.5"}
        assert docker_client.containers.get(name).attrs["Config"]["Image"] == f"{variant_repo}:v0.6.5"
        assert first.interrupt() == 0
        assert "/api/version" in ollama.requests  # without --bundled-ollama, the laptop's Ollama is looked for
        ollama.requests.clear()
        old_id = docker_client.containers.get(name).id

        second = UpProcess([*args, "--bundled-ollama", "--version", "0.6.5", "--json"], laptop)
        up_processes.append(second)
        ready = second.wait_for_json()
        container = docker_client.containers.get(name)
        assert container.id != old_id, "a changed variant must re-create the container"
        assert "re-creating" in second.stderr
        assert container.attrs["Config"]["Image"] == f"{variant_repo}:v0.6.5-ollama"
        assert ready["variant"] == {"name": "bundled-ollama", "gpu": False, "bundled_ollama": True, "version": "0.6.5"}
        assert ready["models_volume"] == f"{name}-ollama"
        # The laptop's Ollama answers, but Open WebUI is left to the one inside its image.
        assert ready["ollama"]["kind"] == "bundled"
        ollama_env = [item for item in container.attrs["Config"]["Env"] if item.startswith("OLLAMA_BASE_URL=")]
        assert ollama_env == ["OLLAMA_BASE_URL=/ollama"], "only the image's own default (the Ollama inside it)"
        assert "/api/version" not in ollama.requests, "owui-dev looked for the laptop's Ollama all the same"
        mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
        assert mounts[OLLAMA_MODELS_PATH]["Name"] == f"{name}-ollama"

        status = json.loads(run_cli("status", "--name", name, "--json", env=env).stdout)
        assert status["variant"]["name"] == "bundled-ollama"
        assert status["variant"]["version"] == "0.6.5"
        assert status["models_volume"] == f"{name}-ollama"
        assert second.interrupt() == 0
    assert "kept the models volume" in second.stderr
    assert docker_client.volumes.get(f"{name}-ollama")  # kept on Ctrl+C, like the data volume

    down = run_cli("down", "--name", name, "--purge", "--yes", "--json", env=env)
    assert down.returncode == 0, down.stderr
    assert f"removed the volume {name}-ollama (the bundled Ollama's models)" in json.loads(down.stdout)["actions"]
    assert not docker_client.volumes.list(filters={"name": f"{name}-ollama"})


@pytest.mark.parametrize("pull", ["never", "missing"])
def test_a_release_tag_that_is_not_there_is_the_image_problem_naming_the_tag(
    docker_client: Any, args: list[str], env: dict[str, str], variant_repo: str, pull: str
) -> None:
    args = _with_image(args, variant_repo)
    args[args.index("--pull") + 1] = pull
    result = run_cli("up", *args, "--version", "9.9.9", "--bundled-ollama", "--json", env=env)
    assert result.returncode == 4, result.stderr
    event = json.loads(result.stderr.strip().splitlines()[-1])
    assert f"{variant_repo}:v9.9.9-ollama" in event["message"]
    assert not docker_client.containers.list(all=True, filters={"name": _name(args)})


def test_the_gpu_and_the_models_volume_are_part_of_the_fingerprint() -> None:
    """--gpu alone does not change the image of --bundled-ollama: the fingerprint must see it, or no re-creation."""
    from owui_dev.docker_engine import ContainerSpec

    plain = ContainerSpec("n", "repo:ollama", 3000, "v")
    bundled = ContainerSpec("n", "repo:ollama", 3000, "v", models_volume="n-ollama")
    with_gpu = ContainerSpec("n", "repo:ollama", 3000, "v", models_volume="n-ollama", gpu=True)
    assert len({plain.fingerprint(), bundled.fingerprint(), with_gpu.fingerprint()}) == 3
    # A container made before variants existed keeps its fingerprint (no needless re-creation on upgrade).
    assert plain.fingerprint() == _legacy_fingerprint(plain)


def _legacy_fingerprint(spec: Any) -> str:
    import hashlib

    payload = json.dumps([spec.image, spec.host_port, spec.volume, []], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def test_a_running_container_of_another_variant_is_used_as_it_is_and_said(
    docker_client: Any, args: list[str], env: dict[str, str], variant_repo: str, up_processes: list[Any]
) -> None:
    name = _name(args)
    args = _with_image(args, variant_repo)
    first = UpProcess([*args, "--version", "0.6.5", "--keep", "--no-ollama-detect", "--json"], env)
    up_processes.append(first)
    first.wait_for_json()
    assert first.interrupt() == 0
    container_id = docker_client.containers.get(name).id

    second = UpProcess([*args, "--bundled-ollama", "--no-ollama-detect", "--json"], env)
    up_processes.append(second)
    ready = second.wait_for_json()
    assert docker_client.containers.get(name).id == container_id, "a running container is never re-created"
    # The JSON says what really runs (the container's labels), and the warning says how to switch.
    assert ready["variant"] == {"name": "standard", "gpu": False, "bundled_ollama": False, "version": "0.6.5"}
    warnings = [json.loads(line) for line in second.stderr_lines if '"warning"' in line]
    assert any(
        "runs the standard, Open WebUI 0.6.5 variant, not the bundled-ollama one" in w["message"] for w in warnings
    ), second.stderr
    assert second.interrupt() == 0
