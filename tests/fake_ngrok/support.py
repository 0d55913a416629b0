"""Helpers for tests that run the stand-in ngrok agent (`tests/fake_ngrok/ngrok`).

Typical use::

    env = make_tls_files(tmp_path)            # the public side's certificate, signed by a test CA
    for name, value in env.items():
        monkeypatch.setenv(name, value)       # pyngrok's child process inherits the environment
    config = PyngrokConfig(ngrok_path=AGENT_PATH, config_path=write_agent_config(tmp_path / "ngrok.yml",
                           authtoken="tok"), auth_token=None)

Clients verify the public URL against `env["SSL_CERT_FILE"]` (the test CA), e.g.
`ssl.create_default_context(cafile=env["SSL_CERT_FILE"])`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

AGENT_PATH = str((Path(__file__).parent / "ngrok").resolve())


def make_tls_files(directory: str | os.PathLike[str], extra_hosts: Iterable[str] = ()) -> dict[str, str]:
    """Write ca.pem, server.pem (leaf + chain) and server.key into `directory`; return the env vars to set.

    The server certificate is valid for 127.0.0.1 and localhost, plus `extra_hosts` (for example the
    domains listed in FAKE_NGROK_DOMAINS).
    """
    import trustme

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost", *extra_hosts)
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca.cert_pem.write_to_path(str(ca_path))
    for index, blob in enumerate(leaf.cert_chain_pems):
        blob.write_to_path(str(cert_path), append=index > 0)
    leaf.private_key_pem.write_to_path(str(key_path))
    key_path.chmod(0o600)
    return {
        "FAKE_NGROK_TLS_CERT": str(cert_path),
        "FAKE_NGROK_TLS_KEY": str(key_path),
        "SSL_CERT_FILE": str(ca_path),
    }


def write_agent_config(
    path: str | os.PathLike[str], authtoken: str | None = None, web_addr: str | None = None, **agent: Any
) -> str:
    """Write a v3 agent config (JSON, which is valid YAML) with mode 0600; return its path as a string."""
    settings: dict[str, Any] = dict(agent)
    if authtoken is not None:
        settings["authtoken"] = authtoken
    if web_addr is not None:
        settings["web_addr"] = web_addr
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"version": "3", "agent": settings}), encoding="utf-8")
    target.chmod(0o600)
    return str(target)


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The JSON lines the agent appended to FAKE_NGROK_RECORD (one per `start`)."""
    target = Path(path)
    if not target.exists():
        return []
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines() if line.strip()]
