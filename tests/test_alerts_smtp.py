"""SMTP delivery over STARTTLS and implicit TLS with a login, against a real aiosmtpd server."""

from __future__ import annotations

import ssl
import subprocess
from datetime import timedelta

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests import test_alerts_support as support
from tests.test_alerts_support import run_job, start_smtp, utcnow

duck = support.duck

USER, PASSWORD = "alerts", "correct horse battery"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, trusted by the job through SSL_CERT_FILE."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return cert, context


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def _incident(duck):
    duck.create_marts()
    duck.add_plant(1, "Venus flytrap")
    duck.add_incident("a-1", 1, "moisture_low", utcnow() - timedelta(minutes=10), 4.0)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_and_login(duck, certificate, mode):
    cert, context = certificate
    if mode == "starttls":
        controller, server = start_smtp(
            tls_context=context,
            require_starttls=True,
            authenticator=_authenticator,
            auth_required=True,
        )
    else:
        controller, server = start_smtp(
            ssl_context=context,
            authenticator=_authenticator,
            auth_required=True,
            auth_require_tls=False,
        )
    try:
        _incident(duck)
        env = {
            **duck.env,
            **server.env,
            "LNHM_SMTP_TLS": mode,
            "LNHM_SMTP_USER": USER,
            "LNHM_SMTP_PASSWORD": PASSWORD,
            "SSL_CERT_FILE": str(cert),
        }
        result = run_job(env)
        assert result.returncode == 0, result.stderr
        [mail] = server.inbox.take()
        assert mail.rcpt_tos == ["carl@lnhm.example"]
        assert PASSWORD not in result.stdout + result.stderr
    finally:
        controller.stop()


def test_wrong_password_fails_clearly_and_records_nothing(duck, certificate):
    cert, context = certificate
    controller, server = start_smtp(
        tls_context=context, require_starttls=True, authenticator=_authenticator, auth_required=True
    )
    try:
        _incident(duck)
        env = {
            **duck.env,
            **server.env,
            "LNHM_SMTP_TLS": "starttls",
            "LNHM_SMTP_USER": USER,
            "LNHM_SMTP_PASSWORD": "wrong-secret",
            "SSL_CERT_FILE": str(cert),
        }
        result = run_job(env)
        assert result.returncode == 1
        assert "LNHM_SMTP_PASSWORD" in result.stderr
        assert "wrong-secret" not in result.stdout + result.stderr
        assert server.inbox.take() == []
        assert duck.sent() == []
    finally:
        controller.stop()


def test_untrusted_certificate_is_refused(duck, certificate):
    _, context = certificate
    controller, server = start_smtp(tls_context=context, require_starttls=True)
    try:
        _incident(duck)
        result = run_job({**duck.env, **server.env, "LNHM_SMTP_TLS": "starttls"})
        assert result.returncode == 1
        assert "certificate" in result.stderr.lower()
        assert server.inbox.take() == []
    finally:
        controller.stop()
