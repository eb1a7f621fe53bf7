from pathlib import Path
from typing import Any

import pytest

from app.config.defaults import DEMO_KEY_ENV, DEMO_MODEL
from app.config.loader import ConfigError, build_config, hash_key, load_config
from app.config.model import ProviderType

ENV = {DEMO_KEY_ENV: "sk-demo", "UP_KEY": "sk-up"}


def account(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "up",
        "type": "openai",
        "api_key_env": "UP_KEY",
        "models": ["gpt-x"],
        **overrides,
    }


def build(raw: dict[str, Any], env: dict[str, str] = ENV):  # type: ignore[no-untyped-def]
    return build_config(raw, env, source="test.toml")


def test_embedded_default_is_demo_only_without_provider_keys() -> None:
    config = load_config(None, {DEMO_KEY_ENV: "sk-demo"})
    assert [a.type for a in config.accounts] == [ProviderType.DEMO]
    assert config.default_model == DEMO_MODEL
    assert config.keys[0].sha256 == hash_key("sk-demo")


def test_embedded_default_adds_an_account_per_provider_key() -> None:
    env = {DEMO_KEY_ENV: "k", "ANTHROPIC_API_KEY": "a", "GEMINI_API_KEY": "g"}
    config = load_config(None, env)
    kinds = [a.type for a in config.accounts]
    assert kinds == [ProviderType.ANTHROPIC, ProviderType.GEMINI, ProviderType.DEMO]
    assert config.accounts[0].api_key == "a"


def test_a_minimal_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[accounts]]\nname = "up"\ntype = "openai"\napi_key_env = "UP_KEY"\n'
        'models = ["gpt-x", { id = "fast", upstream = "gpt-x-mini" }]\n'
    )
    config = load_config(str(path), ENV)
    assert config.accounts[0].base_url == "https://api.openai.com/v1"
    assert [m.id for m in config.models] == ["gpt-x", "fast"]
    assert config.accounts[0].models[1].upstream == "gpt-x-mini"
    assert config.default_model == "gpt-x"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"accounts": [account(base_ulr="x")]}, "accounts[0].base_ulr: unknown key"),
        ({"accounts": [account(type="azure")]}, "accounts[0].type: Input should be"),
        ({"accounts": [account(models=[])]}, "accounts[0].models: List should have at least 1"),
        ({"server": {"port": "eighty"}}, "server.port: Input should be a valid integer"),
        ({"server": {"timeouts": {"idle": 0}}}, "server.timeouts.idle: Input should be greater"),
        (
            {"accounts": [account(api_key_env="MISSING")]},
            "accounts[0] (up).api_key_env: environment variable MISSING is not set",
        ),
        (
            {"accounts": [account(type="openai-compatible")]},
            "accounts[0] (up).base_url: required for type 'openai-compatible'",
        ),
        ({"accounts": [account(), account()]}, "accounts: 'up' appears twice"),
        (
            {"models": [{"id": "a", "aliases": ["b"]}, {"id": "b"}]},
            "models (ids and aliases): 'b' appears twice",
        ),
        ({"keys": [{"name": "k"}]}, "keys[0] (k): give exactly one of sha256 or env"),
        ({"keys": [{"name": "k", "sha256": "abc"}]}, "keys[0].sha256: String should match"),
        ({"accounts": [account()], "default_model": "nope"}, "default_model: 'nope' is neither"),
    ],
)
def test_bad_config_names_the_key_and_the_problem(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build(raw)
    assert message in str(caught.value)
    assert str(caught.value).startswith("test.toml: ")


def test_no_keys_and_no_demo_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="no client keys"):
        build({"accounts": [account()]}, {"UP_KEY": "x"})


def test_invalid_toml_is_reported_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[server\nport = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(str(path), ENV)


def test_key_from_env_is_stored_hashed_only() -> None:
    config = build({"keys": [{"name": "k", "env": "UP_KEY"}]})
    assert config.keys[0].sha256 == hash_key("sk-up")
    assert "sk-up" not in repr(config)


def test_example_config_in_the_repo_is_valid() -> None:
    env = {
        **ENV,
        "SWITCHYARD_OPS_KEY": "x",
        "ANTHROPIC_API_KEY": "a",
        "OPENAI_API_KEY": "o",
        "GEMINI_API_KEY": "g",
        "DEEPSEEK_API_KEY": "d",
        "SWITCHYARD_ADMIN_TOKEN": "t",
    }
    example = Path(__file__).parents[3] / "switchyard.example.toml"
    config = load_config(str(example), env)
    assert len(config.accounts) == 5


@pytest.mark.parametrize(
    ("kind", "api", "protocols"),
    [
        ("openai", None, {"openai_chat", "openai_responses"}),
        ("openai-compatible", None, {"openai_chat"}),
        ("openai", "responses", {"openai_responses"}),
        ("openai-compatible", "both", {"openai_chat", "openai_responses"}),
        ("openai", "chat", {"openai_chat"}),
    ],
)
def test_openai_accounts_choose_their_apis(kind: str, api: str | None, protocols: set[str]) -> None:
    extra = {"base_url": "http://127.0.0.1:1/v1"} if kind == "openai-compatible" else {}
    if api:
        extra["api"] = api
    config = build({"accounts": [account(type=kind, **extra)]})
    assert {p.value for p in config.accounts[0].protocols} == protocols


def test_api_is_refused_on_other_provider_types() -> None:
    with pytest.raises(ConfigError, match=r"accounts\[0\] \(up\)\.api: only for"):
        build({"accounts": [account(type="anthropic", api="chat")]})


def test_account_timeouts_override_the_server_ones_field_by_field() -> None:
    config = build(
        {
            "server": {"timeouts": {"connect": 3, "first_byte": 30, "idle": 40, "total": 600}},
            "accounts": [
                account(name="slow", timeouts={"first_byte": 900, "total": 3600}),
                account(name="plain"),
            ],
        }
    )
    slow, plain = config.accounts
    assert (slow.timeouts.connect, slow.timeouts.first_byte) == (3, 900)
    assert (slow.timeouts.idle, slow.timeouts.total) == (40, 3600)
    assert plain.timeouts == config.server.timeouts


def test_an_unknown_account_timeout_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"accounts\[0\]\.timeouts\.read: unknown key"):
        build({"accounts": [account(timeouts={"read": 5})]})
