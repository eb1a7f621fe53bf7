"""The config file's shape as a precompiled pydantic-core validator.

Unknown keys are refused (``extra_behavior="forbid"``) so a typo such as
``base_ulr`` stops start-up instead of being silently ignored.
"""

from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from app.config.model import ProviderType


def _table(fields: dict[str, cs.TypedDictField]) -> cs.TypedDictSchema:
    return cs.typed_dict_schema(fields, extra_behavior="forbid")


def _opt(schema: cs.CoreSchema) -> cs.TypedDictField:
    return cs.typed_dict_field(schema, required=False)


def _req(schema: cs.CoreSchema) -> cs.TypedDictField:
    return cs.typed_dict_field(schema)


_NAME = cs.str_schema(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:/@-]+$")
_SECONDS = cs.float_schema(gt=0, le=86400)
_ENV_NAME = cs.str_schema(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

_TIMEOUTS = _table(
    {
        "connect": _opt(_SECONDS),
        "first_byte": _opt(_SECONDS),
        "idle": _opt(_SECONDS),
        "total": _opt(_SECONDS),
    }
)

_MEDIA = _table(
    {
        "max_bytes": _opt(cs.int_schema(ge=1024, le=512 * 1024 * 1024)),
        "timeout": _opt(_SECONDS),
        "allow_private": _opt(cs.bool_schema(strict=True)),
    }
)

_FAILOVER = _table({"max_attempts": _opt(cs.int_schema(ge=1, le=20)), "deadline": _opt(_SECONDS)})

_BREAKER = _table(
    {
        "consecutive_failures": _opt(cs.int_schema(ge=1, le=10_000)),
        "window_seconds": _opt(_SECONDS),
        "failure_rate": _opt(cs.float_schema(gt=0, le=1)),
        "min_window_requests": _opt(cs.int_schema(ge=1, le=1_000_000)),
        "cooldown": _opt(_SECONDS),
        "max_cooldown": _opt(_SECONDS),
        "probes": _opt(cs.int_schema(ge=1, le=1000)),
    }
)

_SERVER = _table(
    {
        "host": _opt(cs.str_schema(min_length=1)),
        "port": _opt(cs.int_schema(ge=0, le=65535)),
        "workers": _opt(cs.int_schema(ge=1, le=256)),
        "max_body_bytes": _opt(cs.int_schema(ge=1024, le=1024**3)),
        "pool_connections": _opt(cs.int_schema(ge=1, le=100_000)),
        "demo_chunk_delay_ms": _opt(cs.int_schema(ge=0, le=10_000)),
        "timeouts": _opt(_TIMEOUTS),
        "media": _opt(_MEDIA),
        "failover": _opt(_FAILOVER),
        "breaker": _opt(_BREAKER),
        "region": _opt(_NAME),
        "admin_token_env": _opt(_ENV_NAME),
    }
)

_MODEL = _table(
    {
        "id": _req(_NAME),
        "aliases": _opt(cs.list_schema(_NAME)),
        "display_name": _opt(cs.str_schema()),
        "owned_by": _opt(cs.str_schema()),
        "context_window": _opt(cs.int_schema(ge=1)),
        "max_output_tokens": _opt(cs.int_schema(ge=1)),
        "created": _opt(cs.int_schema(ge=0)),
    }
)

_MODEL_PATTERN = cs.str_schema(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:/@*?\[\]-]+$")
_SERVED_MODEL = cs.union_schema(
    [_MODEL_PATTERN, _table({"id": _req(_MODEL_PATTERN), "upstream": _opt(_NAME)})],
    custom_error_type="served_model",
    custom_error_message="Input should be a model id or a table {id = ..., upstream = ...}",
)

_ACCOUNT = _table(
    {
        "name": _req(_NAME),
        "type": _req(cs.literal_schema([member.value for member in ProviderType])),
        "base_url": _opt(cs.str_schema(pattern=r"^https?://[^\s]+$")),
        "api_key_env": _opt(_ENV_NAME),
        "models": _req(cs.list_schema(_SERVED_MODEL, min_length=1)),
        "headers": _opt(cs.dict_schema(cs.str_schema(min_length=1), cs.str_schema())),
        "api": _opt(cs.literal_schema(["chat", "responses", "both"])),
        "priority": _opt(cs.int_schema(ge=0, le=1000)),
        "weight": _opt(cs.float_schema(gt=0, le=1_000_000)),
        "region": _opt(_NAME),
        "max_concurrency": _opt(cs.int_schema(ge=1, le=100_000)),
        "max_waiting": _opt(cs.int_schema(ge=0, le=100_000)),
        "max_wait": _opt(cs.float_schema(ge=0, le=600)),
        "gemini_api_version": _opt(cs.literal_schema(["v1beta", "v1", "v1alpha"])),
        "timeouts": _opt(_TIMEOUTS),
    }
)

_KEY = _table(
    {
        "name": _req(_NAME),
        "sha256": _opt(cs.str_schema(pattern=r"^[0-9a-fA-F]{64}$")),
        "env": _opt(_ENV_NAME),
    }
)

CONFIG_FILE = SchemaValidator(
    _table(
        {
            "server": _opt(_SERVER),
            "default_model": _opt(_NAME),
            "models": _opt(cs.list_schema(_MODEL)),
            "accounts": _opt(cs.list_schema(_ACCOUNT)),
            "keys": _opt(cs.list_schema(_KEY)),
        }
    )
)
