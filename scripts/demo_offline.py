"""The body of scripts/demo-offline: stand-ins up, then the real CLI in the foreground."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_ngrok.support import AGENT_PATH, make_tls_files  # noqa: E402 - after the path is set
from fake_openwebui.build import build_image  # noqa: E402
from fake_registry import FakeRegistry  # noqa: E402

NAME = "owui-dev-demo"


def main() -> int:
    import docker

    client = docker.from_env()
    source = build_image(client)
    with (
        tempfile.TemporaryDirectory(prefix="owui-dev-demo-") as tmp,
        FakeRegistry(throttle_bytes_per_sec=6_000_000) as registry,
    ):
        served = registry.add_image_from_engine(
            client, source, "open-webui/open-webui", "demo", extra_layer_bytes=24_000_000
        )
        env = {
            **os.environ,
            **make_tls_files(tmp),
            # Any token: the stand-in accepts it. A real run reads yours from ngrok's config.
            "NGROK_AUTHTOKEN": "demo-token-not-a-real-one",
        }
        argv = [
            sys.executable, "-m", "owui_dev", "up",
            "--name", NAME, "--volume", f"{NAME}-data",
            "--image", served.reference, "--pull", "always",
            "--ngrok-path", AGENT_PATH,
            "--env", "FAKE_START_DELAY=4",
            *sys.argv[1:],
        ]  # fmt: skip
        print(f"demo: image served by a local registry at {registry.host}; ngrok is the stand-in agent\n")
        child = subprocess.Popen(argv, env=env)
        # Ctrl+C reaches the whole foreground group: owui-dev handles it, this script just waits.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        code = child.wait()
    with contextlib.suppress(docker.errors.APIError):
        client.images.remove(served.reference, force=True)
    print(f"\ndemo: owui-dev exited with {code}. Data stays in the volume {NAME}-data;")
    print(f"demo: remove everything with `owui-dev down --name {NAME} --purge --yes`.")
    return code


if __name__ == "__main__":
    sys.exit(main())
