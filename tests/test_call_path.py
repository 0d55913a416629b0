"""The call path: pieces that need neither Docker nor a tunnel (the end-to-end tests are in test_call_up.py)."""

from __future__ import annotations

import pytest
from conftest import cli_env, run_cli

from owui_dev import openwebui
from owui_dev.ollama import OllamaSource, SourceKind, container_url, plan
from owui_dev.voice import CLIP_SENTENCE, Clip, normalise, same_words


@pytest.mark.parametrize(
    ("heard", "same"),
    [
        ("This is a microphone test.", True),  # what the real Whisper base says of the shipped clip
        ("this is a microphone test", True),
        ("  THIS is a Microphone test!! ", True),
        ("This is a microphone-test?", True),
        ("This is a microphone test now.", False),
        ("This is a microphone.", False),
        ("moist cake", False),  # what Whisper made of "This is a voice check." from the same synthesiser
        ("", False),
    ],
)
def test_the_comparison_ignores_case_and_punctuation_but_not_words(heard: str, same: bool) -> None:
    assert same_words(heard, CLIP_SENTENCE) is same


def test_number_words_and_digits_compare_equal() -> None:
    assert normalise("Testing one, two, 3.") == ["testing", "1", "2", "3"]
    assert same_words("testing 1 2 3", "Testing one two three.")


def test_the_shipped_clip_is_in_the_package_as_a_phone_records_it() -> None:
    import hashlib

    clip = Clip.shipped()
    assert clip.data[:4] == b"\x1a\x45\xdf\xa3", "a WebM (EBML) file"
    assert b"webm" in clip.data[:64]
    assert b"OpusHead" in clip.data[:512]
    # The file VOICE-CHECK.md describes, and Open WebUI's real Whisper was checked with.
    assert hashlib.sha256(clip.data).hexdigest() == "d782fdff6af875079687c4c835c09e74bde62b23d23852980da0002fc9cd1b23"
    assert (clip.filename, clip.content_type, clip.expected, clip.language) == (
        "voice-check.webm",
        "audio/webm",
        CLIP_SENTENCE,
        "en",
    )


def test_a_call_link_opens_a_new_chat_in_call_mode_with_the_model() -> None:
    from urllib.parse import parse_qs, urlsplit

    link = openwebui.call_url("https://a.ngrok-free.app/", "llama3.2:latest")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "a.ngrok-free.app", "/")
    assert parse_qs(parts.query) == {"models": ["llama3.2:latest"], "call": ["true"]}
    assert openwebui.call_url("https://a.ngrok-free.app", None) == "https://a.ngrok-free.app/?call=true"


def test_only_what_one_transcription_left_is_ever_deleted(docker_client, fake_image: str) -> None:  # type: ignore[no-untyped-def]
    """The upload, its transcript and the MP3 an image with ffmpeg makes of it go; nothing else does."""
    uid = "0b6f1c9e-3c1f-4f4c-9d6a-7a0a4c3c2b1a"
    for bad in ["../../webui.db", f"{uid}.wav/../x", "*.wav", "", f"{uid}", f"{uid}.wav; rm -rf /"]:
        assert openwebui.forget_transcription_command(bad) is None
    command = openwebui.forget_transcription_command(f"{uid}.webm")
    assert command is not None
    folder = openwebui.TRANSCRIPTIONS_DIR
    container = docker_client.containers.run(fake_image, ["sleep", "60"], detach=True, remove=True)
    try:
        other = "1b6f1c9e-3c1f-4f4c-9d6a-7a0a4c3c2b1a"
        names = [f"{uid}.webm", f"{uid}.json", f"{uid}.mp3", f"{other}.webm", f"{other}.json", "webui.db"]
        setup = f"mkdir -p {folder} && cd {folder} && touch " + " ".join(names)
        assert container.exec_run(["sh", "-c", setup]).exit_code == 0
        assert container.exec_run(command).exit_code == 0
        left = container.exec_run(["ls", folder]).output.decode().split()
        assert sorted(left) == sorted([f"{other}.webm", f"{other}.json", "webui.db"])
    finally:
        container.kill()


def test_a_model_connection_the_user_gave_wins_over_detection() -> None:
    source, env = plan({"OPENAI_API_BASE_URL": "https://api.example.com/v1"}, detect=True, url="http://127.0.0.1:1")
    assert (source.kind, env) == (SourceKind.USER, {})
    assert source.given == ("OPENAI_API_BASE_URL=https://api.example.com/v1",)


def test_no_ollama_answering_means_no_change_to_the_container() -> None:
    from conftest import free_port

    source, env = plan({}, detect=True, url=f"http://127.0.0.1:{free_port()}")
    assert (source.kind, env) == (SourceKind.NONE, {})
    assert plan({}, detect=False, url="http://127.0.0.1:11434") == (OllamaSource(SourceKind.NONE), {})


def test_the_container_reaches_the_hosts_ollama_on_its_port() -> None:
    assert container_url("http://127.0.0.1:11434") == "http://host.docker.internal:11434"
    assert container_url("http://localhost:5000") == "http://host.docker.internal:5000"


def test_a_run_records_source_comes_back_as_it_went() -> None:
    source = OllamaSource(SourceKind.DETECTED, "http://127.0.0.1:9", "http://host.docker.internal:9", "0.12.6")
    assert OllamaSource.from_dict(source.as_dict()) == source
    assert OllamaSource.from_dict({"kind": "nonsense"}) is None
    assert OllamaSource.from_dict(None) is None


@pytest.mark.parametrize("command", [["qr"], ["qr", "--call"], ["check"], ["check", "--voice"]])
def test_qr_and_check_with_nothing_running_say_so_and_start_nothing(command: list[str], isolated_home) -> None:  # type: ignore[no-untyped-def]
    """No `up` runs for the name: exit 13 with the way out, and no ngrok, no Docker call, no file written."""
    env = cli_env(DOCKER_HOST="unix:///nonexistent/docker.sock")
    done = run_cli(*command, "--name", "nothing-here", env=env)
    assert done.returncode == 13, done.stderr
    assert "No `owui-dev up` is running for 'nothing-here'" in done.stderr
    assert "owui-dev up --name nothing-here" in done.stderr
    assert not (isolated_home / ".config" / "ngrok").exists()
    json_done = run_cli(*command, "--name", "nothing-here", "--json", env=env)
    assert json_done.returncode == 13
    import json

    error = json.loads(json_done.stderr.strip().splitlines()[-1])
    assert (error["event"], error["error"], error["exit_code"]) == ("error", "not-running", 13)


def test_a_recording_open_webui_would_refuse_is_refused_up_front(tmp_path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    """Open WebUI refuses what it does not take as audio: say so before anything is sent."""
    clip = tmp_path / "notes.txt"
    clip.write_text("not audio")
    done = run_cli("check", "--voice-clip", str(clip), env=cli_env(DOCKER_HOST="unix:///nonexistent/docker.sock"))
    assert done.returncode == 2, done.stderr
    assert "Open WebUI does not take .txt files" in done.stderr
    assert ".webm" in done.stderr


def test_the_users_recording_is_declared_as_audio_by_its_extension(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name, declared in [
        ("a.mp4", "audio/mp4"),
        ("b.M4A", "audio/mp4"),
        ("c.mpeg", "audio/mpeg"),
        ("d.ogg", "audio/ogg"),
    ]:
        path = tmp_path / name
        path.write_bytes(b"x")
        assert Clip.from_file(path).content_type == declared


def test_a_call_opens_with_a_chat_model_not_an_embedding_one() -> None:
    from owui_dev.readiness import chat_models

    offered = [
        {"id": "nomic-embed-text:latest", "owned_by": "ollama"},
        {"id": "arena-model", "owned_by": "arena"},
        {"id": "llama3.2:1b", "owned_by": "ollama"},
        {"id": "qwen3:4b", "owned_by": "ollama"},
    ]
    assert chat_models(offered) == ["llama3.2:1b", "qwen3:4b", "nomic-embed-text:latest", "arena-model"]
    assert chat_models([]) == []
