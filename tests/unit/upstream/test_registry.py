import pytest

from app.canonical.protocol import WireProtocol
from app.config.loader import build_config
from app.core.errors import NotFound
from app.services.gateway import Gateway


def gateway() -> Gateway:
    raw = {
        "models": [{"id": "claude-x", "aliases": ["cx"]}],
        "accounts": [
            {
                "name": "ant",
                "type": "anthropic",
                "api_key_env": "K",
                "models": [{"id": "claude-x", "upstream": "claude-x-2025"}, "claude-*"],
            },
            {"name": "oai", "type": "openai", "api_key_env": "K", "models": ["gpt-*"]},
            {"name": "demo", "type": "demo", "models": ["*"]},
        ],
        "default_model": "claude-x",
    }
    return Gateway(build_config(raw, {"K": "k", "SWITCHYARD_DEMO_KEY": "d"}, source="t"))


def route(name: str | None) -> list[tuple[str, str]]:
    resolution = gateway().registry.resolve(name, models_route="/v1/models")
    return [(t.account.name, t.upstream_model) for t in resolution.targets]


def test_catalog_alias_resolves_to_the_account_and_its_upstream_name() -> None:
    assert route("cx") == [("ant", "claude-x-2025")]
    assert route("claude-x") == [("ant", "claude-x-2025")]


def test_missing_model_uses_the_default() -> None:
    assert route(None) == [("ant", "claude-x-2025")]


def test_most_specific_pattern_wins_and_passes_the_name_unchanged() -> None:
    assert route("claude-opus-9") == [("ant", "claude-opus-9")]
    assert route("gpt-7") == [("oai", "gpt-7")]


def test_catch_all_serves_only_names_nothing_else_serves() -> None:
    assert route("llama-3") == [("demo", "llama-3")]


def test_unknown_model_is_a_404_naming_the_models_route() -> None:
    registry = Gateway(
        build_config(
            {
                "accounts": [
                    {"name": "oai", "type": "openai", "api_key_env": "K", "models": ["gpt-x"]}
                ]
            },
            {"K": "k", "SWITCHYARD_DEMO_KEY": "d"},
            source="t",
        )
    ).registry
    with pytest.raises(NotFound, match=r"GET /v1beta/models lists"):
        registry.resolve("nope", models_route="/v1beta/models")


def test_targets_are_filtered_by_the_protocol_an_account_speaks() -> None:
    resolution = gateway().registry.resolve("gpt-7", models_route="/v1/models")
    assert resolution.for_protocol(WireProtocol.OPENAI_RESPONSES)
    assert not resolution.for_protocol(WireProtocol.ANTHROPIC)
