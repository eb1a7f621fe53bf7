"""The upstream client over TLS: certificates and host names checked, SNI sent, HTTP/1.1
agreed by ALPN; against a loopback server with a certificate made for the test."""

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.config.model import Timeouts
from app.core.errors import UpstreamUnavailable
from app.upstream.connections import tls_context
from app.upstream.transport import Pools, UpstreamRequest
from tests.unit.upstream.scripted_http import Run, answer, reply, serving

TIMEOUTS = Timeouts(connect=2, first_byte=5, idle=5, total=10)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name ``localhost`` (not for 127.0.0.1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "switchyard test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_context(certificate: tuple[Path, Path], names: list[str | None]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    # The server would rather speak h2: only a client offering nothing else gets HTTP/1.1.
    context.set_alpn_protocols(["h2", "http/1.1"])
    context.sni_callback = lambda _, name, __: names.append(name)
    return context


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = tls_context()  # the gateway's, plus the test's certificate as trusted
    context.load_verify_locations(cafile=certificate[0])
    return context


def test_https_sends_the_host_name_and_agrees_on_http_1_1(
    run: Run, certificate: tuple[Path, Path]
) -> None:
    names: list[str | None] = []

    async def main() -> None:
        tls = server_context(certificate, names)
        async with serving(answer(reply(b"secure")), tls=tls) as server:
            pools = Pools(connections_per_origin=2, tls=trusting(certificate))
            origin = f"https://localhost:{server.port}"
            request = UpstreamRequest("POST", origin + "/v1/x", {}, b"{}", TIMEOUTS)
            try:
                for _ in range(2):
                    response = await pools.transport.send(request)
                    assert await response.read(1000) == b"secure"
                    response.release()
            finally:
                await pools.close()
            assert server.connections == 1  # kept alive over TLS too
            assert server.alpn == ["http/1.1"]
            assert server.seen[0].headers[b"host"] == [f"localhost:{server.port}".encode()]
        assert names == ["localhost"]

    run(main())


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"], ids=["untrusted", "wrong-name"])
def test_a_certificate_that_does_not_check_out_is_refused(
    run: Run, certificate: tuple[Path, Path], host: str
) -> None:
    async def main() -> None:
        tls = server_context(certificate, [])
        async with serving(answer(reply(b"secure")), tls=tls) as server:
            # "untrusted": the default trust store; "wrong-name": trusted, but not for the IP.
            pools = Pools(
                connections_per_origin=2, tls=None if host == "localhost" else trusting(certificate)
            )
            origin = f"https://{host}:{server.port}"
            request = UpstreamRequest("POST", origin + "/v1/x", {}, b"{}", TIMEOUTS)
            try:
                with pytest.raises(UpstreamUnavailable, match="could not connect"):
                    await pools.transport.send(request)
            finally:
                await pools.close()
            assert server.seen == []

    run(main())
