"""The test Sigstore behind real HTTP on 127.0.0.1, so that sigstore-python's signer runs
unmodified against it: keyless signing end to end with no network.

:class:`SigstoreService` answers, on one loopback port, the three requests a keyless
signature makes:

* ``GET /oidc/token?audience=...``: GitHub Actions' OIDC token endpoint, the one the ``id``
  package calls when ``ACTIONS_ID_TOKEN_REQUEST_URL`` and ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``
  are set (:meth:`SigstoreService.github_actions_environment` gives those variables). It
  answers ``{"value": <JWT>}``, an ES256 token signed by the service's own OIDC key;
* ``POST /api/v2/signingCert``: Fulcio. The bearer token must be one this service minted
  (signature, audience ``sigstore`` and expiry checked) and the CSR's signature must verify
  (proof of possession); the answer is a chain from :class:`~tests.helpers.sigstore.TestSigstore`'s
  CA, the leaf carrying the token's identity and an embedded SCT;
* ``POST /api/v1/log/entries``: Rekor v1, for ``dsse``/``0.0.1`` proposals. The envelope's
  signature must verify with the proposed certificate; the entry goes into the test log and
  the answer carries its inclusion proof, signed checkpoint and signed entry timestamp.

:meth:`SigstoreService.trust_config_json` is a ``ClientTrustConfig`` whose signing config
points at this port and whose trusted root is the test Sigstore's, so
``SigningContext.from_trust_config`` signs here and ``Verifier`` trusts what it signed.
Anything else is answered 404; every request is recorded in :attr:`SigstoreService.requests_log`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import jwt
import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.helpers.sigstore import GitHubIdentity, SigningIdentity, TestSigstore, dsse_entry_body

__all__ = ["OIDC_AUDIENCE", "SigstoreService"]

#: The audience sigstore-python asks OIDC providers for.
OIDC_AUDIENCE = "sigstore"
_DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json"


class _Refused(Exception):
    """A request the service answers with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _pae(payload_type: str, payload: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, service: SigstoreService) -> None:
        self.service = service
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up are normal in tests


class _Handler(BaseHTTPRequestHandler):
    server_version = "pip-verify-test-sigstore/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def service(self) -> SigstoreService:
        return cast(_Server, self.server).service

    def _answer(self, status: int, document: Mapping[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _run(self, route: Any, *args: Any) -> None:
        try:
            status, document = route(*args)
        except _Refused as refused:
            # Fulcio and Rekor both answer errors as {"code": ..., "message": ...}.
            status, document = refused.status, {"code": refused.status, "message": refused.message}
        self._answer(status, document)

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        self.service.requests_log.append(("GET", split.path))
        if split.path == "/oidc/token":
            query = {key: values[-1] for key, values in parse_qs(split.query).items()}
            authorization = self.headers.get("Authorization", "")
            self._run(self.service._token_endpoint, query, authorization)
        else:
            self._answer(404, {"code": 404, "message": "not found"})

    def do_POST(self) -> None:
        split = urlsplit(self.path)
        self.service.requests_log.append(("POST", split.path))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            document = json.loads(raw)
        except ValueError:
            self._answer(400, {"code": 400, "message": "the body is not JSON"})
            return
        if split.path == "/api/v2/signingCert":
            authorization = self.headers.get("Authorization", "")
            self._run(self.service._signing_cert, document, authorization)
        elif split.path == "/api/v1/log/entries":
            self._run(self.service._log_entry, document)
        else:
            self._answer(404, {"code": 404, "message": "not found"})


class SigstoreService:
    """Fulcio, Rekor v1 and a GitHub Actions OIDC token endpoint for ``sigstore`` (a new
    :class:`TestSigstore` by default) on ``http://127.0.0.1:<port>``. Use as a context
    manager: entering starts the server in a daemon thread, leaving stops it."""

    __test__ = False

    def __init__(self, sigstore: TestSigstore | None = None) -> None:
        self.sigstore = sigstore or TestSigstore()
        #: (method, path) of every request received, in order.
        self.requests_log: list[tuple[str, str]] = []
        self._oidc_key = ec.generate_private_key(ec.SECP256R1())
        self._identities: dict[str, SigningIdentity] = {}
        self._request_tokens: dict[str, SigningIdentity] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> SigstoreService:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="SigstoreService",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: Fulcio and Rekor both answer here (sigstore joins
        Fulcio's path to the host, dropping any path the URL has)."""
        if self._server is None:
            raise RuntimeError("the service is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------------ configuration

    def trust_config_json(self) -> str:
        """A ``ClientTrustConfig``: sign here, trust the test Sigstore's root."""
        return self.sigstore.client_trust_config_json(fulcio_url=self.url, rekor_url=self.url)

    def write_trust_config(self, path: Path) -> Path:
        path.write_text(self.trust_config_json(), encoding="utf-8")
        return path

    def identity_token(
        self,
        identity: SigningIdentity,
        *,
        audience: str = OIDC_AUDIENCE,
        lifetime: timedelta = timedelta(minutes=5),
    ) -> str:
        """A JWT for ``identity`` signed by this service's OIDC key, as its issuer would
        mint one; Fulcio here issues certificates for it until it expires."""
        now = datetime.now(timezone.utc)
        token_id = secrets.token_hex(8)
        with self._lock:
            self._identities[token_id] = identity
        claims = {
            "iss": identity.issuer,
            "sub": _subject(identity),
            "aud": audience,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "jti": token_id,
        }
        return jwt.encode(claims, self._oidc_key, algorithm="ES256")

    def github_actions_environment(self, identity: SigningIdentity) -> dict[str, str]:
        """The variables a GitHub Actions job with ``permissions: id-token: write`` has,
        pointing at this service's token endpoint, which answers with tokens for
        ``identity``."""
        request_token = secrets.token_hex(16)
        with self._lock:
            self._request_tokens[request_token] = identity
        return {
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/oidc/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": request_token,
        }

    # ------------------------------------------------------------------ endpoints

    def _token_endpoint(
        self, query: Mapping[str, str], authorization: str
    ) -> tuple[int, dict[str, Any]]:
        scheme, _, request_token = authorization.partition(" ")
        identity = self._request_tokens.get(request_token)
        if scheme.lower() != "bearer" or identity is None:
            raise _Refused(401, "unknown request token")
        audience = query.get("audience", OIDC_AUDIENCE)
        return 200, {"value": self.identity_token(identity, audience=audience)}

    def _signing_cert(
        self, document: Mapping[str, Any], authorization: str
    ) -> tuple[int, dict[str, Any]]:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer":
            raise _Refused(401, "no bearer token")
        try:
            claims = jwt.decode(
                token,
                self._oidc_key.public_key(),
                algorithms=["ES256"],
                audience=OIDC_AUDIENCE,
                options={"require": ["exp", "iat", "jti"]},
            )
        except jwt.InvalidTokenError as exc:
            raise _Refused(401, f"the identity token does not verify: {exc}") from None
        identity = self._identities.get(str(claims["jti"]))
        if identity is None:
            raise _Refused(401, "the identity token was not issued here")
        try:
            pem = base64.b64decode(document["certificateSigningRequest"], validate=True)
            csr = x509.load_pem_x509_csr(pem)
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise _Refused(400, "no readable certificateSigningRequest") from None
        public_key = csr.public_key()
        if not csr.is_signature_valid or not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise _Refused(400, "the CSR's signature does not verify (no proof of possession)")
        with self._lock:
            leaf = self.sigstore.issue_certificate(
                identity, public_key, issued_at=datetime.now(timezone.utc)
            )
        chain = [leaf, self.sigstore.intermediate_certificate, self.sigstore.root_certificate]
        certificates = [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain]
        return 201, {"signedCertificateEmbeddedSct": {"chain": {"certificates": certificates}}}

    def _log_entry(self, document: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        if document.get("kind") != "dsse" or document.get("apiVersion") != "0.0.1":
            raise _Refused(400, "this log takes dsse/0.0.1 entries only")
        try:
            proposed = document["spec"]["proposedContent"]
            envelope = json.loads(proposed["envelope"])
            (verifier,) = proposed["verifiers"]
            pem = base64.b64decode(verifier, validate=True)
            certificate = x509.load_pem_x509_certificate(pem)
            payload = base64.b64decode(envelope["payload"], validate=True)
            (signature_entry,) = envelope["signatures"]
            signature = base64.b64decode(signature_entry["sig"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise _Refused(400, "not a readable dsse proposal") from None
        public_key = certificate.public_key()
        if envelope.get("payloadType") != _DSSE_PAYLOAD_TYPE or not isinstance(
            public_key, ec.EllipticCurvePublicKey
        ):
            raise _Refused(400, "not an in-toto envelope signed with an ECDSA key")
        try:
            public_key.verify(
                signature, _pae(_DSSE_PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature:
            raise _Refused(400, "the envelope's signature does not verify") from None
        body = dsse_entry_body(rfc8785.dumps(envelope), payload, signature, pem)
        now = int(datetime.now(timezone.utc).timestamp())
        with self._lock:
            entry = self.sigstore.append_log_entry(body, now)
        return 201, entry.rekor_v1_response()


def _subject(identity: SigningIdentity) -> str:
    """The token's ``sub``: GitHub's ``repo:OWNER/REPO:ref:REF``, else the identity itself."""
    if isinstance(identity, GitHubIdentity):
        return f"repo:{identity.repository}:ref:{identity.ref}"
    return identity.san
