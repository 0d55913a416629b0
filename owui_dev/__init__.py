"""owui-dev: a local Open WebUI on your phone over HTTPS, in one command."""

__version__ = "0.1.0"
