"""A container owui-dev made is started again only while its image's tag still names the image it was made from:
after a pull or a build moved the tag, it is made anew from the new image (as `docker compose up` does), the data
volume kept. Under --pull never a stopped container whose tag is gone still starts, with the image it has."""

from __future__ import annotations

import contextlib
import io
import secrets

import pytest
from conftest import UpProcess, agent_records, free_port, pid_gone, run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def tag(docker_client, fake_image):  # type: ignore[no-untyped-def]
    """A tag of this test's own, first naming the fake image; removed afterwards, whatever it names then."""
    import docker

    repository = f"owui-dev-test/retag-{secrets.token_hex(4)}"
    docker_client.images.get(fake_image).tag(repository, "latest")
    yield f"{repository}:latest"
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(f"{repository}:latest", force=True)


def _with_image(base_args: list[str], image: str) -> list[str]:
    at = base_args.index("--image") + 1
    return [*base_args[:at], image, *base_args[at + 1 :]]


def _run_and_stop(args: list[str], env: dict[str, str], up_processes: list[UpProcess]) -> UpProcess:
    up = UpProcess([*args, "--json"], env)
    up_processes.append(up)
    up.wait_for_json()
    assert up.interrupt() == 0
    return up


def test_a_stopped_container_is_made_anew_when_its_tag_names_another_image(
    docker_client, names, base_args, env, up_processes, tag, fake_image
) -> None:  # type: ignore[no-untyped-def]
    args = [*_with_image(base_args, tag), "--port", str(free_port())]
    _run_and_stop(args, env, up_processes)
    first = docker_client.containers.get(names.container)
    assert first.attrs["Image"] == docker_client.images.get(fake_image).id

    # The tag moves to another image, as `docker pull` or a build moves it.
    newer, _ = docker_client.images.build(
        fileobj=io.BytesIO(f"FROM {fake_image}\nLABEL owui-dev-test.build=newer\n".encode()), tag=tag, rm=True
    )
    second = _run_and_stop(args, env, up_processes)
    made = docker_client.containers.get(names.container)
    assert made.id != first.id
    assert made.attrs["Image"] == newer.id
    assert f"{tag} is another image than the one {names.container} was made from" in second.stderr
    assert any(m["Name"] == names.volume for m in made.attrs["Mounts"]), "the data volume is kept"

    third = _run_and_stop(args, env, up_processes)
    assert docker_client.containers.get(names.container).id == made.id, "the same image: the same container"
    assert "re-creating" not in third.stderr


def test_pull_never_starts_a_stopped_container_whose_tag_is_gone_and_refuses_to_remake_it(
    docker_client, names, base_args, env, up_processes, tag
) -> None:  # type: ignore[no-untyped-def]
    port = str(free_port())
    args = [*_with_image(base_args, tag), "--port", port]  # base_args pull never
    _run_and_stop(args, env, up_processes)
    made = docker_client.containers.get(names.container)
    docker_client.images.remove(tag)  # only the tag: the image stays, the container uses it

    again = _run_and_stop(args, env, up_processes)
    assert docker_client.containers.get(names.container).id == made.id
    assert f"{tag} is no longer on this engine (--pull never)" in again.stderr

    # Made anew (its settings changed) it would need the tag: refused before the old container is removed.
    result = run_cli("up", *args, "--env", "SOME_SETTING=1", env=env)
    assert result.returncode == 4, result.stderr
    assert f"The image {tag} is not on this engine, and --pull never forbids pulling it." in result.stderr
    assert "Settings changed since" in result.stderr, "it says why the container would be made anew"
    assert "Traceback" not in result.stderr
    assert docker_client.containers.get(names.container).id == made.id
    assert all(pid_gone(int(record["pid"])) for record in agent_records(env)), "the agent outlived the refusal"  # type: ignore[arg-type]
