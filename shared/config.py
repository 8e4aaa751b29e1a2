"""Configuration read from the environment, never at import time.

Each service declares its settings as a mapping of name -> default; the type of the
default decides how the environment string is coerced (int, bool, tuple of strings, str).
"""
import os
from typing import Any, Mapping

COMMON_DEFAULTS: dict[str, Any] = {
    "PG_SERVER_URL": "postgresql://postgres@127.0.0.1:5432",
    "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "REDIS_PREFIX": "",
    "INTERNAL_TOKENS": (),
    "INTERNAL_TOKEN": "",
    "KEYS_DIR": "deploy/keys",
    "LOG_LEVEL": "INFO",
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "DB_POOL_MIN": 1,
    "DB_POOL_MAX": 4,
    "PRODUCTION": False,
}
# PRODUCTION=true never accepts an RSA key shorter than this, whatever MIN_KEY_BITS says.
PRODUCTION_MIN_KEY_BITS = 2048


def coerce(raw: str, default: Any) -> Any:
    """Turn an environment string into the type of ``default``."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def load_config(database: str, defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict:
    """Build a service's configuration: defaults, then the environment, then explicit overrides.

    ``database`` is the service's own database name; ``DATABASE_URL`` defaults to it on
    ``PG_SERVER_URL`` so that a local stack needs no per-service variable. In production
    (``PRODUCTION=true``) a service's ``MIN_KEY_BITS`` is at least 2048, whatever it is set to.
    """
    merged = {**COMMON_DEFAULTS, "DATABASE_URL": "", **defaults}
    config = {}
    for key, default in merged.items():
        raw = os.environ.get(key)
        config[key] = default if raw is None else coerce(raw, default)
    config.update(overrides or {})
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"{config['PG_SERVER_URL'].rstrip('/')}/{database}"
    if not config["INTERNAL_TOKENS"]:
        config["INTERNAL_TOKENS"] = tuple(filter(None, [read_key_file(config, "internal_token")]))
    if not config["INTERNAL_TOKEN"] and config["INTERNAL_TOKENS"]:
        config["INTERNAL_TOKEN"] = config["INTERNAL_TOKENS"][0]
    if config["PRODUCTION"] and "MIN_KEY_BITS" in config:
        config["MIN_KEY_BITS"] = max(config["MIN_KEY_BITS"], PRODUCTION_MIN_KEY_BITS)
    return config


def read_key_file(config: Mapping[str, Any], name: str) -> str:
    """The stripped text of ``KEYS_DIR/name``, or '' when the file does not exist."""
    path = os.path.join(config["KEYS_DIR"], name)
    if not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def key_path(config: Mapping[str, Any], setting: str, filename: str) -> str:
    """A key file's path: the explicit setting when given, else ``KEYS_DIR/filename``."""
    return config.get(setting) or os.path.join(config["KEYS_DIR"], filename)
