from app.config.loader import build_config
from app.services.gateway import Gateway

ENV = {"SWITCHYARD_DEMO_KEY": "sk-demo", "UP_KEY": "sk-up"}


def test_each_account_calls_its_upstream_with_its_own_timeouts() -> None:
    raw = {
        "server": {"timeouts": {"first_byte": 20}},
        "accounts": [
            {
                "name": "thinker",
                "type": "anthropic",
                "api_key_env": "UP_KEY",
                "models": ["deep"],
                "timeouts": {"first_byte": 600},
            },
            {"name": "quick", "type": "anthropic", "api_key_env": "UP_KEY", "models": ["deep"]},
        ],
    }
    gateway = Gateway(build_config(raw, ENV, source="test"))
    first_byte = {account.config.name: account.timeouts.first_byte for account in gateway.accounts}
    assert first_byte == {"thinker": 600, "quick": 20}
