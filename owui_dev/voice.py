"""Speech → text through the tunnel: the voice half of a call, proved before the phone is out.

A short spoken clip that ships with owui-dev (owui_dev/data/, with how it was made) is uploaded through
the public URL to Open WebUI's transcription API, signed in as the admin, exactly as the phone's call
sends what it hears; the text that comes back is compared with the sentence the clip says. When it
fails, the most likely cause is named in the user's terms.

Open WebUI keeps every uploaded clip and its transcript in its cache folder
(`cache/audio/transcriptions/<id>.<ext>` and `<id>.json`, routers/audio/__init__.py); the caller passes
`forget` to delete those two files again, so a check leaves nothing behind.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from owui_dev import openwebui
from owui_dev.checks import Check, Status, make_check

if TYPE_CHECKING:
    import ssl

    from owui_dev.readiness import CallTarget

CLIP_NAME = "voice-check.webm"
# What the shipped clip says (owui_dev/data/VOICE-CHECK.md tells how it was made and checked): plain
# words that Open WebUI's default Whisper model (base) transcribes exactly from this synthetic voice.
CLIP_SENTENCE = "This is a microphone test."
VOICE = ("voice", "speech → text")
# Open WebUI's default allowed extensions (AUDIO_STT_ALLOWED_EXTENSIONS) with the audio type to declare:
# it refuses a part without an audio/* type (or video/webm), whatever the file holds.
AUDIO_TYPES = {
    "wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4", "webm": "audio/webm", "ogg": "audio/ogg",
    "flac": "audio/flac", "mp4": "audio/mp4", "mpga": "audio/mpeg", "mpeg": "audio/mpeg",
}  # fmt: skip

_NUMBERS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}  # fmt: skip


def normalise(text: str) -> list[str]:
    """Words as a comparison should see them: lower case, no punctuation, number words as digits."""
    words = re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))
    return [_NUMBERS.get(word, word) for word in (w.strip("'") for w in words) if word]


def same_words(heard: str, expected: str) -> bool:
    return normalise(heard) == normalise(expected)


@dataclass(frozen=True)
class Clip:
    data: bytes
    filename: str
    content_type: str
    expected: str | None  # None: the user's own recording, whose words we do not know
    # Spoken language, when known: spares Whisper its guess (a synthetic voice can be taken for another).
    language: str | None = None

    @classmethod
    def shipped(cls) -> Clip:
        data = (resources.files("owui_dev") / "data" / CLIP_NAME).read_bytes()
        # WebM/Opus, as a phone browser's MediaRecorder uploads it.
        return cls(data, CLIP_NAME, "audio/webm", CLIP_SENTENCE, "en")

    @classmethod
    def from_file(cls, path: Path) -> Clip:
        """The user's own recording (--voice-clip), in a format Open WebUI accepts by default."""
        from owui_dev.errors import UsageError

        extension = path.suffix.lower().removeprefix(".")
        if extension not in AUDIO_TYPES:
            raise UsageError(
                f"--voice-clip {path.name!r}: Open WebUI does not take .{extension or '(no extension)'} files.",
                hint="Use one of " + ", ".join(f".{ext}" for ext in AUDIO_TYPES) + " (phones record .webm or .m4a).",
            )
        try:
            data = path.read_bytes()
        except OSError as err:
            raise UsageError(
                f"--voice-clip {path} cannot be read: {err.strerror or err}.",
                hint="Check the path and its permissions.",
            ) from None
        return cls(data, path.name, AUDIO_TYPES[extension], None)


def _check(status: Status, detail: str, hint: str | None = None) -> Check:
    return make_check(VOICE, status, detail, hint)


def voice_check(
    target: CallTarget,
    clip: Clip,
    *,
    context: ssl.SSLContext,
    forget: Callable[[str], bool] | None = None,
    stt: dict[str, object] | None = None,
) -> Check:
    """Sign in through the public URL, upload the clip, compare what Open WebUI heard.

    `stt` is the admin's speech-to-text settings (when readable), to name the cause of a failure."""
    from owui_dev.readiness import NO_ADMIN

    if not (target.admin_email and target.admin_password):
        return _check(
            "warn",
            f"not checked: it needs the admin's sign-in, and {NO_ADMIN}",
            "Try the microphone button in a chat instead.",
        )
    base, via = target.entry()
    token = openwebui.sign_in_token(base, email=target.admin_email, password=target.admin_password, context=context)
    if token is None:
        return _check(
            "fail",
            f"signing in as {target.admin_email} through {via} failed, so nothing was uploaded",
            "The kept password no longer matches (changed in Open WebUI?): `owui-dev status --show-password` shows "
            "the one owui-dev knows.",
        )
    started = time.monotonic()
    answer = openwebui.transcribe(
        base, token, clip.data, clip.filename, clip.content_type, language=clip.language, context=context
    )
    seconds = time.monotonic() - started
    body = answer.json()
    if answer.ok and isinstance(body, dict) and isinstance(body.get("text"), str):
        kept = str(body.get("filename") or "")
        forgotten = forget is not None and bool(kept) and forget(kept)
        result = _judge(clip, body["text"], seconds, via)
        if not forgotten:
            left = f" (Open WebUI keeps the clip in its cache: cache/audio/transcriptions/{kept or '…'})"
            result = replace(result, detail=result.detail + left)
        return result
    detail = _detail_of(body) or answer.error or ""
    if "ERR_NGROK_" in answer.body:  # ngrok's own error page: the request never reached Open WebUI
        detail += " (" + next(iter(re.findall(r"ERR_NGROK_\d+", answer.body)), "") + ")"
    return _explain_failure(answer.status, detail, target, via, stt or {})


def _judge(clip: Clip, heard: str, seconds: float, via: str) -> Check:
    shown = f"{heard.strip()!r}" if heard.strip() else "nothing (silence)"
    if clip.expected is None:
        if not heard.strip():
            return _check(
                "warn",
                f"transcribed through {via} in {seconds:.1f} s, but nothing was heard",
                "Is the recording silent, or in a format the engine cannot decode?",
            )
        return _check("ok", f"transcribed through {via} in {seconds:.1f} s: {shown}")
    if same_words(heard, clip.expected):
        return _check("ok", f"transcribed through {via} in {seconds:.1f} s: {shown}")
    return _check(
        "fail",
        f"Open WebUI heard {shown} instead of {clip.expected!r} ({seconds:.1f} s)",
        "Speech reaches the engine but comes back wrong: a Whisper model too small for the language, or a wrong "
        "`language` set in Admin Panel → Settings → Audio. Try your own recording with --voice-clip FILE.",
    )


def _detail_of(body: object) -> str:
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else ""


def _explain_failure(status: int | None, detail: str, target: CallTarget, via: str, stt: dict[str, object]) -> Check:
    from owui_dev.readiness import AUDIO_SETTINGS, is_slim

    said = f"HTTP {status}: {detail}" if status is not None else detail
    if status in {401, 403}:
        return _check(
            "fail",
            f"Open WebUI refused the upload ({said})",
            "The sign-in was not accepted for speech-to-text: is the admin account still an admin, and is "
            "speech-to-text allowed (Admin Panel → Users → Permissions)?",
        )
    if "slim" in detail:  # Open WebUI's own words: "Local Whisper is unavailable in slim."
        return _check(
            "fail",
            f"Open WebUI could not transcribe the clip ({said}): this is a -slim image, which has no built-in "
            "Whisper (the upload stays in its cache)",
            f"Use the full image (drop -slim from --image), or choose an external engine in {AUDIO_SETTINGS}.",
        )
    if status is None or status in {413, 502, 504} or "ERR_NGROK" in detail:
        return _check(
            "fail",
            f"the upload did not get through {via} ({said})",
            "The tunnel cut the request: check `owui-dev status`, and that nothing between here and ngrok limits "
            "uploads; then `owui-dev check --voice` again.",
        )
    if status == 400 and "not supported" in detail:
        return _check(
            "fail",
            f"Open WebUI refused this kind of audio ({said})",
            "Its speech-to-text settings (Admin Panel → Settings → Audio: supported content types, allowed "
            "extensions) exclude it; phones send audio/webm or audio/mp4.",
        )
    engine = str(stt.get("ENGINE") or "")
    if engine == "" and is_slim(target):
        cause = "this is a -slim image, which has no built-in Whisper"
        fix = f"Use the full image (drop -slim from --image), or choose an external engine in {AUDIO_SETTINGS}."
    elif engine == "":
        cause = "the built-in Whisper did not transcribe it (its model did not load?)"
        fix = (
            "`owui-dev logs` shows Open WebUI's reason. Offline, the built-in Whisper needs its model already "
            f"downloaded (WHISPER_MODEL); or choose an external engine in {AUDIO_SETTINGS}."
        )
    elif engine == "web":
        cause = "the engine is the phone browser's own recognition, which the server cannot run"
        fix = f"That engine only works inside the browser; for a server-side check choose Whisper in {AUDIO_SETTINGS}."
    else:
        url = stt.get("OPENAI_API_BASE_URL") if engine == "openai" else None
        cause = f"the {engine} engine{f' at {url}' if url else ''} did not answer or refused the request"
        fix = f"Check its URL and key in {AUDIO_SETTINGS}; `owui-dev logs` shows Open WebUI's reason."
    # Open WebUI saved the upload before its engine failed, and does not say under which name.
    return _check(
        "fail", f"Open WebUI could not transcribe the clip ({said}): {cause} (the upload stays in its cache)", fix
    )
