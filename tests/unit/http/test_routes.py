import pytest

from app.canonical.protocol import ErrorShape
from app.core.errors import MethodNotAllowed, NotFound
from app.http.routes import Endpoint, error_shape_for_path, match_route


@pytest.mark.parametrize(
    ("method", "path", "endpoint", "model"),
    [
        ("POST", "/v1/chat/completions", Endpoint.CHAT, None),
        ("POST", "/openai/v1/chat/completions", Endpoint.CHAT, None),
        ("POST", "/v1/responses", Endpoint.RESPONSES, None),
        ("POST", "/openai/v1/responses", Endpoint.RESPONSES, None),
        ("POST", "/v1/messages", Endpoint.MESSAGES, None),
        ("POST", "/api/v1/messages", Endpoint.MESSAGES, None),
        ("POST", "/claude/v1/messages", Endpoint.MESSAGES, None),
        ("POST", "//v1/messages", Endpoint.MESSAGES, None),
        ("POST", "/v1/messages/", Endpoint.MESSAGES, None),
        ("POST", "/v1/messages/count_tokens", Endpoint.COUNT_TOKENS, None),
        (
            "POST",
            "/v1beta/models/gemini-2.5-pro:generateContent",
            Endpoint.GEMINI_GENERATE,
            "gemini-2.5-pro",
        ),
        ("POST", "/v1beta/models/g:streamGenerateContent", Endpoint.GEMINI_STREAM, "g"),
        ("POST", "/v1/models/models/g:countTokens", Endpoint.GEMINI_COUNT_TOKENS, "g"),
        ("GET", "/v1/models", Endpoint.MODELS, None),
        ("GET", "/models", Endpoint.MODELS, None),
        ("GET", "/openai/v1/models", Endpoint.MODELS, None),
        ("GET", "/v1/models/org/model-x", Endpoint.MODEL, "org/model-x"),
        ("GET", "/v1beta/models", Endpoint.GEMINI_MODELS, None),
        ("GET", "/v1beta/models/gemini-x", Endpoint.GEMINI_MODEL, "gemini-x"),
        ("HEAD", "/", Endpoint.ROOT, None),
        ("GET", "/healthz", Endpoint.HEALTHZ, None),
    ],
)
def test_routes(method: str, path: str, endpoint: Endpoint, model: str | None) -> None:
    match = match_route(method, path)
    assert (match.endpoint, match.model) == (endpoint, model)


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("/v1/v1/messages", "already ends in /v1"),
        ("/v1/v1/chat/completions", "try '/v1/chat/completions'"),
        ("/chat/completions", "Did you mean '/v1/chat/completions'?"),
        ("/messages", "Did you mean '/v1/messages'?"),
        ("/v1/chat/completion", "Did you mean '/v1/chat/completions'?"),
        ("/v1beta/models/g:embedContent", "'embedContent' is not served"),
    ],
)
def test_unknown_paths_get_a_hint(path: str, hint: str) -> None:
    with pytest.raises(NotFound) as caught:
        match_route("POST", path)
    assert hint in caught.value.message


def test_wrong_method_is_405_with_the_allowed_ones() -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        match_route("GET", "/v1/messages")
    assert caught.value.allowed == ("POST",)


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/v1/v1/messages", ErrorShape.ANTHROPIC),
        ("/v1beta/x", ErrorShape.GEMINI),
        ("/v2/chat", ErrorShape.OPENAI),
    ],
)
def test_error_shape_guess_for_unknown_paths(path: str, shape: ErrorShape) -> None:
    assert error_shape_for_path(path) is shape


def test_the_precomputed_exact_routes_agree_with_the_normalising_path() -> None:
    """Exact paths are answered from a table built at import; the same path with a
    trailing slash goes through normalize_path and the route table: same answer."""
    checked = 0
    for spelling in ["/v1/messages", "/api/v1/messages", "/claude/v1/messages", "/healthz"]:
        for method in ("POST", "GET", "HEAD"):
            try:
                fast = match_route(method, spelling)
            except MethodNotAllowed as exc:
                with pytest.raises(MethodNotAllowed) as slow:
                    match_route(method, spelling + "/")
                assert slow.value.allowed == exc.allowed
                continue
            assert fast == match_route(method, spelling + "/")
            checked += 1
    assert checked == 5  # POST on the three message paths, GET and HEAD on /healthz
