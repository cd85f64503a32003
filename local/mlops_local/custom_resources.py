"""A loopback stand-in for CloudFormation's custom resource response URLs, served over HTTPS.

CloudFormation gives a custom resource a pre-signed S3 URL to PUT its answer to. crhelper sends
the answer only over HTTPS (``http.client.HTTPSConnection``) and, given a URL it cannot reach,
retries forever. So the receiver serves HTTPS on 127.0.0.1 with a certificate made at start: a
throwaway certificate authority signs a server certificate for ``127.0.0.1``/``localhost``.

crhelper verifies the server with ``ssl.create_default_context()``, which trusts OpenSSL's default
verify paths, and OpenSSL reads those from ``SSL_CERT_FILE`` when it is set. The local cloud sets
``SSL_CERT_FILE`` in the function's environment to :attr:`ca_bundle` (the throwaway authority plus
certifi's usual ones), so the function trusts the receiver with no local-only code path.
"""

import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mlops_local.loopback import LoopbackServer, answer

RESPONSE_PATH_PREFIX = "/cloudformation-responses/"


class CustomResourceResponseReceiver(LoopbackServer):
    """Accepts PUTs of custom resource answers on ``https://127.0.0.1:{port}/cloudformation-responses/{id}``."""

    THREAD_NAME = "cloudformation-responses"

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="mlops-local-tls-")
        self.ca_bundle, certificate, key = _write_certificates(Path(self._directory.name))
        self._responses: dict[str, dict[str, Any]] = {}
        self._all_responses: dict[str, list[dict[str, Any]]] = {}  # every answer, to count them
        self._arrived = threading.Condition()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        self._listen(tls=context)

    def new_response_url(self) -> tuple[str, str]:
        """A fresh response URL and the key its answer will be kept under."""
        key = uuid.uuid4().hex
        return f"{self.base_url}{RESPONSE_PATH_PREFIX}{key}?X-Amz-Signature=local", key

    def response(self, key: str, *, wait_seconds: float = 0) -> dict[str, Any] | None:
        """The answer PUT for ``key``; waits up to ``wait_seconds`` for one sent from another thread."""
        with self._arrived:
            self._arrived.wait_for(lambda: key in self._responses, timeout=wait_seconds)
            return self._responses.get(key)

    def answers(self, key: str) -> list[dict[str, Any]]:
        """Every answer PUT for ``key``, oldest first: CloudFormation expects exactly one."""
        with self._arrived:
            return list(self._all_responses.get(key, ()))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        self._directory.cleanup()

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class ResponseHandler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = self.path.split("?", 1)[0]
                try:
                    answer = json.loads(body)
                except ValueError:
                    answer = None
                if not path.startswith(RESPONSE_PATH_PREFIX) or not isinstance(answer, dict):
                    self._answer(HTTPStatus.BAD_REQUEST)
                    return
                with receiver._arrived:
                    key = path.removeprefix(RESPONSE_PATH_PREFIX)
                    receiver._responses[key] = answer
                    receiver._all_responses.setdefault(key, []).append(answer)
                    receiver._arrived.notify_all()
                self._answer(HTTPStatus.OK)

            def _answer(self, status: HTTPStatus) -> None:
                answer(self, status)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the answers are kept."""

        return ResponseHandler


def _write_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate it signs; returns (CA bundle, certificate, key) files.

    The extensions are the ones strict verification (Python 3.13's default) insists on: a CA with
    critical basic constraints and key usage, key identifiers, and the server's IP in the SAN.
    """
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlops-local throwaway CA")])
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_bundle = directory / "ca-bundle.pem"
    ca_bundle.write_bytes(
        Path(certifi.where()).read_bytes() + b"\n" + ca_certificate.public_bytes(serialization.Encoding.PEM)
    )
    certificate = directory / "server.pem"
    certificate.write_bytes(server_certificate.public_bytes(serialization.Encoding.PEM))
    key = directory / "server-key.pem"
    key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_bundle, certificate, key
