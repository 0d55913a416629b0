"""Build the fake Open WebUI image (a busybox root filesystem) without any registry.

The image is assembled in memory as a tar of the host's static busybox, its applet
symlinks and the scripts under ``rootfs/``, then imported with the Docker API
(the equivalent of ``docker import --change ...``). The tag is a hash of the
content, so a build is done once and later calls return the existing image.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import tarfile
from pathlib import Path

import docker
import docker.errors

IMAGE_REPOSITORY = "owui-dev-test/fake-openwebui"
BUSYBOX_PATH = Path("/bin/busybox")
ROOTFS_DIR = Path(__file__).resolve().parent / "rootfs"

_INSTALL_HINT = "install it with `apt-get install busybox-static` (Debian/Ubuntu)"

# Mirrors the relevant parts of open-webui's Dockerfile (WORKDIR, ENV, EXPOSE, CMD, HEALTHCHECK).
IMAGE_CHANGES: tuple[str, ...] = (
    "WORKDIR /app/backend",
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV ENV=prod",
    "ENV PORT=8080",
    "ENV HOME=/root",
    "ENV WEBUI_SECRET_KEY=",
    "ENV OLLAMA_BASE_URL=/ollama",
    "ENV SCARF_NO_ANALYTICS=true",
    "ENV DO_NOT_TRACK=true",
    "ENV ANONYMIZED_TELEMETRY=false",
    "ENV FAKE_OPENWEBUI=1",
    "EXPOSE 8080",
    "LABEL org.opencontainers.image.title=fake-open-webui",
    "HEALTHCHECK --interval=30s CMD "
    'wget -qO- "http://localhost:${PORT:-8080}/health" | grep -q \'"status":true\' || exit 1',
    'CMD ["sh", "start.sh"]',
)

_MTIME = 1_700_000_000
_DIRS = (
    "bin",
    "sbin",
    "usr",
    "usr/bin",
    "usr/sbin",
    "etc",
    "root",
    "tmp",
    "var",
    "var/tmp",
    "app",
    "app/backend",
    "app/backend/data",
    "app/build",
    "app/fake",
)
_ETC_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
}


def _busybox_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise RuntimeError(f"{path} not found: the fake Open WebUI image needs a static busybox; {_INSTALL_HINT}.")
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        raise RuntimeError(f"{path} is not an ELF executable; {_INSTALL_HINT}.")
    if _has_interpreter(data):
        raise RuntimeError(
            f"{path} is dynamically linked and cannot run in an empty image; "
            f"{_INSTALL_HINT} (it replaces /bin/busybox with the static build)."
        )
    return data


def _has_interpreter(elf: bytes) -> bool:
    """True when the ELF has a PT_INTERP program header (i.e. is dynamically linked)."""
    is64 = elf[4] == 2
    endian = "<" if elf[5] == 1 else ">"
    if is64:
        (phoff,) = struct.unpack_from(endian + "Q", elf, 0x20)
        phentsize, phnum = struct.unpack_from(endian + "HH", elf, 0x36)
    else:
        (phoff,) = struct.unpack_from(endian + "I", elf, 0x1C)
        phentsize, phnum = struct.unpack_from(endian + "HH", elf, 0x2A)
    for i in range(phnum):
        (p_type,) = struct.unpack_from(endian + "I", elf, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP
            return True
    return False


def _applets(path: Path) -> list[str]:
    """Install paths of busybox's applets (e.g. ``bin/sh``, ``usr/bin/awk``)."""
    try:
        out = subprocess.run([str(path), "--list-full"], capture_output=True, text=True, timeout=10, check=True).stdout
        paths = [line.strip().lstrip("/") for line in out.splitlines() if line.strip()]
    except (OSError, subprocess.SubprocessError):
        paths = []
    if not paths:
        out = subprocess.run([str(path), "--list"], capture_output=True, text=True, timeout=10, check=True).stdout
        paths = [f"bin/{name.strip()}" for name in out.splitlines() if name.strip()]
    return sorted({p for p in paths if p and p != "bin/busybox" and "/" in p})


def _info(name: str, kind: bytes, mode: int, size: int = 0, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.linkname = linkname
    info.mtime = _MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def build_rootfs_tar(busybox_path: Path = BUSYBOX_PATH) -> bytes:
    """The image's root filesystem as a deterministic, uncompressed tar."""
    busybox = _busybox_bytes(busybox_path)
    applets = _applets(busybox_path)

    files: dict[str, tuple[bytes, int]] = {"bin/busybox": (busybox, 0o755)}
    for name, text in _ETC_FILES.items():
        files[name] = (text.encode(), 0o644)
    for src in sorted(ROOTFS_DIR.rglob("*")):
        if src.is_file():
            rel = src.relative_to(ROOTFS_DIR).as_posix()
            mode = 0o755 if src.suffix == ".sh" else 0o644
            files[rel] = (src.read_bytes(), mode)

    dirs = set(_DIRS)
    for rel in list(files) + applets:
        parent = Path(rel).parent
        while str(parent) not in (".", ""):
            dirs.add(parent.as_posix())
            parent = parent.parent

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for d in sorted(dirs):
            mode = 0o1777 if d in ("tmp", "var/tmp") else 0o755
            tar.addfile(_info(d, tarfile.DIRTYPE, mode))
        for name in sorted(files):
            data, mode = files[name]
            tar.addfile(_info(name, tarfile.REGTYPE, mode, len(data)), io.BytesIO(data))
        for applet in applets:
            if applet in files:
                continue
            tar.addfile(_info(applet, tarfile.SYMTYPE, 0o777, linkname="/bin/busybox"))
    return buf.getvalue()


def image_reference(rootfs_tar: bytes) -> str:
    digest = hashlib.sha256(rootfs_tar)
    digest.update(json.dumps(IMAGE_CHANGES).encode())
    return f"{IMAGE_REPOSITORY}:{digest.hexdigest()[:12]}"


def build_image(client: docker.DockerClient) -> str:
    """Build (or reuse) the fake Open WebUI image and return its ``repo:tag`` reference."""
    rootfs = build_rootfs_tar()
    ref = image_reference(rootfs)
    try:
        client.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass

    repository, tag = ref.rsplit(":", 1)
    result = client.api.import_image(src=rootfs, repository=repository, tag=tag, changes=list(IMAGE_CHANGES))
    text = result if isinstance(result, str) else json.dumps(result)
    if '"error' in text:
        raise RuntimeError(f"docker import of {ref} failed: {text}")
    client.images.get(ref)  # raises if the import did not produce the tag
    return ref


if __name__ == "__main__":  # pragma: no cover - manual helper
    print(build_image(docker.from_env()))
