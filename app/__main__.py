"""``python -m app`` / ``switchyard``: validate the config, print how to connect, serve.

Settings come from flags, else ``SWITCHYARD_HOST``, ``SWITCHYARD_PORT``,
``SWITCHYARD_WORKERS`` and ``SWITCHYARD_CONFIG``, else the config file's
``[server]`` table, else defaults (127.0.0.1:8080, one worker).
"""

import argparse
import os
import secrets
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType

from app.config.defaults import DEMO_KEY_ENV
from app.config.loader import ConfigError, load_config
from app.config.model import Config
from app.core.logs import write_line
from app.http.app import CONFIG_ENV

# How long a stopping worker (shutdown, SIGHUP) may take to finish the requests it
# holds; streams still open after that are cut.
WORKER_DRAIN_SECONDS = 30


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="switchyard", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("SWITCHYARD_HOST"))
    parser.add_argument("--port", type=int, default=_int_env("SWITCHYARD_PORT"))
    parser.add_argument("--workers", type=int, default=_int_env("SWITCHYARD_WORKERS"))
    parser.add_argument(
        "--config",
        default=os.environ.get(CONFIG_ENV),
        help="TOML config file (default: the embedded demo configuration)",
    )
    parser.add_argument("--check", action="store_true", help="validate the configuration and exit")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    generated = not os.environ.get(DEMO_KEY_ENV)
    if generated:
        # Set before the workers start so every worker accepts the same key.
        os.environ[DEMO_KEY_ENV] = f"sk-switchyard-{secrets.token_urlsafe(24)}"
    if args.config:
        os.environ[CONFIG_ENV] = args.config
    try:
        config = load_config(args.config, os.environ)
    except ConfigError as exc:
        print(f"switchyard: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(f"switchyard: {config.source} is valid")
        return 0
    host = args.host or config.server.host
    port = args.port if args.port is not None else config.server.port
    workers = args.workers or config.server.workers
    print(banner(config, host, port, demo_key=os.environ[DEMO_KEY_ENV]), flush=True)
    serve(host, port, workers, args.config)
    return 0


def serve(host: str, port: int, workers: int, config_path: str | None) -> None:
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    server = Server(
        "app.http.asgi:app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        log_access=False,
        respawn_failed_workers=True,
        workers_kill_timeout=WORKER_DRAIN_SECONDS,
    )
    server.on_startup(lambda: reload_on_sighup(server.signal_handler_reload, config_path))
    server.serve()


def reload_on_sighup(respawn_workers: Callable[..., object], config_path: str | None) -> None:
    """Validate the config file before Granian acts on SIGHUP.

    Granian's main process answers SIGHUP by starting new workers, which read the
    config again, and then stopping the old ones gracefully. Workers started on a
    bad file would fail and leave nothing serving, so the file is checked here
    first: a bad one is refused with its reason and the running workers stay.
    (Editing the file is picked up by the workers themselves within a second,
    keeping account health; SIGHUP starts them afresh.) Runs as a Granian
    startup hook, after Granian installed its own handler, which this replaces.
    """

    def on_sighup(signum: int, frame: FrameType | None) -> None:
        source = config_path or "the embedded default"
        try:
            config = load_config(config_path, os.environ)
        except ConfigError as exc:
            write_line("error", "switchyard.reload", f"SIGHUP refused, workers keep running: {exc}")
            return
        write_line(
            "warning",
            "switchyard.reload",
            f"SIGHUP: {source} is valid ({len(config.accounts)} accounts, "
            f"{len(config.models)} models); replacing the workers gracefully",
        )
        respawn_workers()

    signal.signal(signal.SIGHUP, on_sighup)


def banner(config: Config, host: str, port: int, *, demo_key: str) -> str:
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    uses_demo_key = any(key.name == "demo" for key in config.keys)
    key_line = (
        f"  API key:            {demo_key}"
        if uses_demo_key
        else "  API key:            one of the keys in your config file"
    )
    models = ", ".join(model.id for model in config.models[:6])
    return "\n".join(
        [
            f"Switchyard listening on {base}  (config: {config.source})",
            key_line,
            f"  Default model:      {config.default_model}   Models: {models}",
            f"  OpenAI SDK/OpenCode/Qwen Code: OPENAI_BASE_URL={base}/v1",
            f'  Codex:              base_url = "{base}/v1", wire_api = "responses"',
            f"  Claude Code:        ANTHROPIC_BASE_URL={base}",
            f"  Gemini CLI:         GOOGLE_GEMINI_BASE_URL={base}",
            f"  Try: curl -s {base}/v1/chat/completions -H 'Authorization: Bearer "
            f"{demo_key if uses_demo_key else '<key>'}' "
            '-H \'content-type: application/json\' -d \'{"messages":[{"role":"user",'
            '"content":"Hello"}]}\'',
        ]
    )


def _int_env(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


if __name__ == "__main__":
    sys.exit(main())
