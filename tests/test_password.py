"""The generated admin password: six words from the EFF long list that xkcdpass ships, typed easily on a phone."""

from __future__ import annotations

import json
import math
import re
from importlib import metadata
from pathlib import Path

from conftest import UpProcess

from owui_dev import instance


def test_the_word_list_is_the_packages_eff_long_list() -> None:
    # Read independently of owui_dev: the file as the installed xkcdpass distribution records it.
    files = metadata.files("xkcdpass") or []
    (path,) = [f for f in files if str(f).replace("\\", "/").endswith("xkcdpass/static/eff-long")]
    shipped = Path(str(path.locate())).read_text(encoding="utf-8").split()
    assert len(shipped) == 7776 == 6**5  # five dice
    assert shipped[0] == "abacus"
    assert shipped[-1] == "zoom"
    assert {"unheard", "monstrous", "skiing", "slicing", "conical", "emphasis"} <= set(shipped)
    hyphenated = {word for word in shipped if "-" in word}
    assert hyphenated == {"drop-down", "felt-tip", "t-shirt", "yo-yo"}
    assert instance.wordlist() == tuple(word for word in shipped if word not in hyphenated)


def test_a_generated_password_is_six_lowercase_words_joined_by_hyphens() -> None:
    words = set(instance.wordlist())
    seen = set()
    for _ in range(200):
        password = instance.generate_password()
        assert re.fullmatch(r"[a-z]+(-[a-z]+){5}", password), password
        assert set(password.split("-")) <= words
        # Open WebUI's bcrypt takes at most 72 bytes; the longest possible password stays well under.
        assert len(password.encode()) <= 6 * 9 + 5 < 72
        seen.add(password)
    assert len(seen) == 200, "drawn at random, not repeated"


def test_the_password_has_at_least_64_bits() -> None:
    bits = 6 * math.log2(len(instance.wordlist()))
    assert bits >= 64
    assert instance.password_bits() == bits
    assert round(bits, 1) == 77.5


def test_a_volumes_kept_password_survives_a_new_up(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    # A volume first started by an owui-dev that generated 24 random characters.
    legacy = "0do9kzNlB8vjFWhJZ1ylKvpz"
    kept = Path(env["XDG_STATE_HOME"]) / "owui-dev" / "instances" / f"{names.volume}.json"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(
        json.dumps(
            {"admin_email": "admin@localhost", "admin_password": legacy, "admin_name": "Admin", "secret_key": "k" * 43}
        )
    )
    kept.chmod(0o600)
    for _ in range(2):
        up = UpProcess([*args, "--json"], env)
        up_processes.append(up)
        ready = up.wait_for_json()
        assert ready["admin_password"] == legacy, "signed in with the kept password"
        assert json.loads(kept.read_text())["admin_password"] == legacy
        assert up.interrupt() == 0
