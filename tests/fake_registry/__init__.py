"""A tiny local Docker registry (pull side of the Registry HTTP API V2) for tests against a real engine."""

from .server import (
    CONFIG_V1,
    LAYER_TAR_GZIP,
    MANIFEST_V2,
    FakeRegistry,
    RequestRecord,
    ServedImage,
    make_tar,
    sha256_digest,
)

__all__ = [
    "CONFIG_V1",
    "LAYER_TAR_GZIP",
    "MANIFEST_V2",
    "FakeRegistry",
    "RequestRecord",
    "ServedImage",
    "make_tar",
    "sha256_digest",
]
