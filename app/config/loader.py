"""Reading, validating and resolving the config file.

Every problem is reported as a ``ConfigError`` naming the key and what is
wrong with it; the launcher prints it and stops.
"""

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from pydantic_core import ValidationError

from app.config.defaults import DEMO_KEY_ENV, embedded_config
from app.config.model import (
    DEFAULT_BASE_URL,
    AccountConfig,
    BreakerConfig,
    Config,
    FailoverSettings,
    KeyConfig,
    MediaSettings,
    ModelConfig,
    ProviderType,
    ServedModel,
    ServerSettings,
    Timeouts,
)
from app.config.schema import CONFIG_FILE


class ConfigError(Exception):
    pass


def load_config(path: str | None, env: Mapping[str, str]) -> Config:
    """The config at ``path``, or the embedded default when ``path`` is empty."""
    if not path:
        return build_config(embedded_config(env), env, source="embedded default")
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return build_config(raw, env, source=path)


def build_config(raw: dict[str, Any], env: Mapping[str, str], *, source: str) -> Config:
    try:
        data = CONFIG_FILE.validate_python(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None
    try:
        return _resolve(data, env, source)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False)[:5]:
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]
        )
        where = where.lstrip(".") or "(top level)"
        if error["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown key")
        else:
            problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)


def _resolve(data: dict[str, Any], env: Mapping[str, str], source: str) -> Config:
    server = _server(data.get("server", {}), env)
    accounts = tuple(
        _account(index, raw, env, server.timeouts)
        for index, raw in enumerate(data.get("accounts", []))
    )
    _check_unique("accounts", [account.name for account in accounts])
    models = _catalog(data.get("models", []), accounts)
    keys = _keys(data.get("keys", []), env)
    _check_unique("keys", [key.name for key in keys])
    default_model = data.get("default_model") or (models[0].id if models else None)
    if default_model is not None:
        _check_servable("default_model", default_model, models, accounts)
    return Config(
        server=server,
        models=models,
        accounts=accounts,
        keys=keys,
        default_model=default_model,
        source=source,
    )


def _server(raw: dict[str, Any], env: Mapping[str, str]) -> ServerSettings:
    admin_env = raw.pop("admin_token_env", None)
    admin = None
    if admin_env is not None:
        token = env.get(admin_env, "")
        if not token:
            raise ConfigError(
                f"server.admin_token_env: environment variable {admin_env} is not set"
            )
        admin = hash_key(token)
    raw["admin_token_sha256"] = admin
    timeouts = Timeouts(**raw.pop("timeouts", {}))
    media = MediaSettings(**raw.pop("media", {}))
    failover = FailoverSettings(**raw.pop("failover", {}))
    breaker = BreakerConfig(**raw.pop("breaker", {}))
    return ServerSettings(timeouts=timeouts, media=media, failover=failover, breaker=breaker, **raw)


def _account(
    index: int, raw: dict[str, Any], env: Mapping[str, str], timeouts: Timeouts
) -> AccountConfig:
    kind = ProviderType(raw["type"])
    where = f"accounts[{index}] ({raw['name']})"
    base_url = raw.get("base_url") or DEFAULT_BASE_URL.get(kind)
    if base_url is None:
        raise ConfigError(f"{where}.base_url: required for type '{kind}'")
    api_key = None
    key_env = raw.get("api_key_env")
    if raw.get("api") and kind not in (ProviderType.OPENAI, ProviderType.OPENAI_COMPATIBLE):
        raise ConfigError(f"{where}.api: only for accounts of type openai or openai-compatible")
    if kind is not ProviderType.DEMO:
        if not key_env:
            raise ConfigError(
                f"{where}.api_key_env: required (the name of the variable holding the provider key)"
            )
        api_key = env.get(key_env, "").strip()
        if not api_key:
            raise ConfigError(f"{where}.api_key_env: environment variable {key_env} is not set")
    served = tuple(
        ServedModel(item)
        if isinstance(item, str)
        else ServedModel(item["id"], item.get("upstream"))
        for item in raw["models"]
    )
    return AccountConfig(
        name=raw["name"],
        type=kind,
        base_url=base_url.rstrip("/"),
        api_key=api_key,
        api_key_env=key_env,
        models=served,
        headers=tuple((name.lower(), value) for name, value in raw.get("headers", {}).items()),
        api=raw.get("api"),
        priority=raw.get("priority", 0),
        weight=raw.get("weight", 1.0),
        region=raw.get("region"),
        max_concurrency=raw.get("max_concurrency"),
        max_waiting=raw.get("max_waiting", 0),
        max_wait=raw.get("max_wait", 0.0),
        gemini_api_version=raw.get("gemini_api_version", "v1beta"),
        timeouts=replace(timeouts, **raw.get("timeouts", {})),
    )


def _catalog(
    raw_models: list[dict[str, Any]], accounts: tuple[AccountConfig, ...]
) -> tuple[ModelConfig, ...]:
    models = [
        ModelConfig(**{**raw, "aliases": tuple(raw.get("aliases", ()))}) for raw in raw_models
    ]
    declared = {model.id for model in models}
    for account in accounts:
        for served in account.models:
            if not served.is_pattern and served.id not in declared:
                declared.add(served.id)
                models.append(ModelConfig(id=served.id, owned_by=account.type.value))
    names = [model.id for model in models] + [alias for model in models for alias in model.aliases]
    _check_unique("models (ids and aliases)", names)
    return tuple(models)


def _keys(raw_keys: list[dict[str, Any]], env: Mapping[str, str]) -> tuple[KeyConfig, ...]:
    keys = []
    for index, raw in enumerate(raw_keys):
        where = f"keys[{index}] ({raw['name']})"
        if ("sha256" in raw) == ("env" in raw):
            raise ConfigError(f"{where}: give exactly one of sha256 or env")
        if "sha256" in raw:
            keys.append(KeyConfig(raw["name"], raw["sha256"].lower()))
            continue
        secret = env.get(raw["env"], "")
        if not secret:
            raise ConfigError(f"{where}.env: environment variable {raw['env']} is not set")
        keys.append(KeyConfig(raw["name"], hash_key(secret)))
    if not keys:
        demo = env.get(DEMO_KEY_ENV, "")
        if not demo:
            raise ConfigError(f"no client keys: add [[keys]] or set {DEMO_KEY_ENV}")
        keys.append(KeyConfig("demo", hash_key(demo)))
    return tuple(keys)


def _check_servable(
    where: str, name: str, models: tuple[ModelConfig, ...], accounts: tuple[AccountConfig, ...]
) -> None:
    known = {model.id for model in models} | {a for model in models for a in model.aliases}
    patterns = [served.id for account in accounts for served in account.models if served.is_pattern]
    if name not in known and not any(fnmatchcase(name, pattern) for pattern in patterns):
        raise ConfigError(
            f"{where}: '{name}' is neither a model id, an alias, nor served "
            "by any account's model patterns"
        )


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError(f"{what}: '{name}' appears twice")
        seen.add(name)
