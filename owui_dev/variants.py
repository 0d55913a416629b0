"""Open WebUI's image variants: --gpu (CUDA), --bundled-ollama (Ollama inside), --version (a pinned release).

The tags are the official ones (ghcr.io/open-webui/open-webui), as Open WebUI's docs list them
(docs.openwebui.com, "Docker images and tags": `:main`, `:cuda`, `:ollama`, the bare variant names being aliases
of the main build) and as its release workflow makes them (.github/workflows/docker-build.yaml: on a tag `vX.Y.Z`,
docker/metadata-action's `type=ref,event=tag` gives `:vX.Y.Z`, and the cuda / ollama builds add their flavor
suffix: `:vX.Y.Z-cuda`, `:vX.Y.Z-ollama`). GPU together with the bundled Ollama is the `:ollama` image run with
the GPU request (`--gpus=all`), as the README's "Open WebUI Bundled with Ollama, with GPU support" shows: the
Ollama inside is what uses the GPU.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from owui_dev.errors import UsageError

if TYPE_CHECKING:
    from owui_dev.config import Origin

OFFICIAL_REPOSITORY = "ghcr.io/open-webui/open-webui"
# Where the :ollama image keeps Ollama's models (its docs: `-v ollama:/root/.ollama`).
OLLAMA_MODELS_PATH = "/root/.ollama"
# The :ollama image's own settings (Dockerfile ENV USE_OLLAMA_DOCKER=true, OLLAMA_BASE_URL=/ollama) point Open
# WebUI at the Ollama inside it (config.py: "/ollama" with USE_OLLAMA_DOCKER -> http://localhost:11434).
BUNDLED_OLLAMA_URL = "http://localhost:11434"

LABEL_VARIANT = "owui-dev.variant"
LABEL_OPENWEBUI_VERSION = "owui-dev.openwebui-version"

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
# What the engine says when no device driver (NVIDIA's hook, or a CDI spec) offers the `gpu` capability.
_NO_GPU_DRIVER = re.compile(r"could not select device driver .*capabilities", re.IGNORECASE)


@dataclass(frozen=True)
class Variant:
    gpu: bool = False
    bundled_ollama: bool = False
    version: str | None = None  # X.Y.Z, without the tag's `v`

    @property
    def chosen(self) -> bool:
        return self.gpu or self.bundled_ollama or self.version is not None

    def tag(self) -> str:
        """The official tag: main / cuda / ollama, or vX.Y.Z[-cuda|-ollama] for a release."""
        flavor = "ollama" if self.bundled_ollama else "cuda" if self.gpu else None
        if self.version is None:
            return flavor or "main"
        return f"v{self.version}" + (f"-{flavor}" if flavor else "")

    @property
    def name(self) -> str:
        """For people: `standard`, `gpu`, `bundled-ollama`, `bundled-ollama+gpu`."""
        parts = [part for part, on in (("bundled-ollama", self.bundled_ollama), ("gpu", self.gpu)) if on]
        return "+".join(parts) or "standard"

    def describe(self) -> str:
        return self.name + (f", Open WebUI {self.version}" if self.version else "")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "gpu": self.gpu, "bundled_ollama": self.bundled_ollama, "version": self.version}

    def labels(self) -> dict[str, str]:
        labels = {LABEL_VARIANT: self.name}
        if self.version:
            labels[LABEL_OPENWEBUI_VERSION] = self.version
        return labels

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> Variant | None:
        """Back from a container's labels; None for one made before variants existed."""
        name = labels.get(LABEL_VARIANT)
        if name is None:
            return None
        parts = set(name.split("+"))
        return cls(gpu="gpu" in parts, bundled_ollama="bundled-ollama" in parts,
                   version=labels.get(LABEL_OPENWEBUI_VERSION) or None)  # fmt: skip


def validate_version(value: str, origin: Origin) -> str:
    """X.Y.Z (a leading `v` is accepted, as in the release tags); the tag adds the `v` itself."""
    match = _VERSION.match(value.strip())
    if match is None:
        raise UsageError(
            f"{origin.show(value)} is not an Open WebUI release version.",
            hint="Give MAJOR.MINOR.PATCH, e.g. --version 0.6.5 (the releases are listed at "
            "https://github.com/open-webui/open-webui/releases).",
        )
    return ".".join(match.groups())


def resolve_image(image: str | None, variant: Variant, *, default: str, image_origin: Origin,
                  variant_origin: Origin) -> str:  # fmt: skip
    """The image `up` runs. Without a variant: --image, else the default. With one, the tag follows from the
    variant; --image may then name only the repository (a mirror of Open WebUI's), never a tag of its own."""
    if not variant.chosen:
        return image or default
    if image is None:
        return f"{OFFICIAL_REPOSITORY}:{variant.tag()}"
    repository = image.split("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    if repository != image:
        raise UsageError(
            f"{image_origin.show(image)} names a tag, and {variant_origin.label} chooses the tag too.",
            hint=f"Leave the image out (the official {OFFICIAL_REPOSITORY}:{variant.tag()} is used), or give the "
            f"repository alone for a mirror ({repository}): owui-dev adds :{variant.tag()}.",
        )
    return f"{image}:{variant.tag()}"


def models_volume(name: str) -> str:
    """The bundled Ollama's models, next to the instance: kept like the data volume, removed by down --purge."""
    return f"{name}-ollama"


# -- the GPU: does the engine offer one? --------------------------------------------------------------


class GpuSupport(StrEnum):
    YES = "yes"  # the engine lists an NVIDIA runtime or a discovered NVIDIA GPU
    NO = "no"  # the engine cannot have one (Docker on macOS)
    UNKNOWN = "unknown"  # the engine does not say: the start says it


@dataclass(frozen=True)
class GpuAnswer:
    support: GpuSupport
    how: str


def gpu_support(info: Mapping[str, Any], *, macos_local: bool) -> GpuAnswer:
    """What the engine's /info tells about `--gpus all` (docker-py's client.info()).

    Yes: `Runtimes` has `nvidia` (nvidia-ctk runtime configure), or `DiscoveredDevices` (Engine API 1.50+) lists
    an `nvidia.com/gpu` CDI device. The engine's own NVIDIA driver needs only `nvidia-container-runtime-hook` on
    the daemon's PATH (moby daemon/nvidia_linux.go), which /info does not report: without those signs it is not
    known until the container starts. No: a local engine on macOS (Docker Desktop, Colima, OrbStack) runs in a VM
    without access to any NVIDIA GPU.
    """
    if macos_local:
        return GpuAnswer(GpuSupport.NO, "Docker on macOS has no access to an NVIDIA GPU")
    runtimes = info.get("Runtimes") or {}
    if isinstance(runtimes, Mapping) and "nvidia" in runtimes:
        return GpuAnswer(GpuSupport.YES, "the engine has the nvidia runtime")
    devices = info.get("DiscoveredDevices") or []
    ids = [str(device.get("ID", "")) for device in devices if isinstance(device, Mapping)]
    gpus = [device for device in ids if device.startswith("nvidia.com/gpu")]
    if gpus:
        return GpuAnswer(GpuSupport.YES, f"the engine lists {len(gpus)} NVIDIA GPU device(s) ({gpus[0]}…)")
    return GpuAnswer(GpuSupport.UNKNOWN, "the engine lists no nvidia runtime; the GPU request is tried at the start")


def is_no_gpu_failure(text: str) -> bool:
    return bool(_NO_GPU_DRIVER.search(text))
