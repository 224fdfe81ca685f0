"""Certificate login (§6.3.2 a) in real Chromium through a real `huren bridge serve` process.

Nothing is mocked. An operator prepares a live provider with the `huren` console script (a test
PKI per algorithm from `huren pki hierarchy`, `huren ca add` and `huren ca crl upload` with
online revocation checks off, `huren entity import` + `approve`, `huren user password`,
`huren cert bind`, `huren client create`); the provider learns the bridge's port from
`HUREN_BRIDGE_PORT`. The bidder's bridge runs in kiosk mode (auto-approve, PIN from a file)
with two real tokens bound to one account: a SoftHSM2 token the test initialises (RSA key and
certificate imported with python-pkcs11) and an SM2 soft token (encrypted PKCS#8 key file and
certificate). Next to them: the SM2 encryption certificate of the dual-key pair, and key files
whose certificates the provider refuses (untrusted CA, revoked, expired, not bound) or whose
password is not the PIN. Chromium goes from the relying party's authorization request (code
flow, PKCE S256) through the login page's certificate tab to the relying party's redirect URI,
a real HTTP server; the test then exchanges the code at the token endpoint as the relying party
would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from e2e_support import (
    HUREN,
    LiveServer,
    RelyingParty,
    chromium_or_skip,
    free_port,
    launch_chromium,
    relying_party,
    running_server,
)
from joserfc import jwt
from joserfc.jwk import KeySet

from cert_interop import keys, sm2
from cert_interop.x509 import Certificate, build_certificate, parse_certificate, string_extension
from tests.softhsm_support import softhsm_module, softhsm_token

pytestmark = pytest.mark.browser

sync_api = chromium_or_skip()
expect = sync_api.expect

TIMEOUT_MS = 15_000
HTTP_TIMEOUT = 10
USCC = "91350100M000100Y43"
ORG = "测试投标有限公司"
PASSWORD = "Zhengque-Ma-Huren-2024"
PIN = "Huren-e2e-2468"
"""The SoftHSM2 user PIN and the key files' password: the kiosk bridge has one PIN file."""
TOKEN_LABEL = "Huren e2e"
RP_NAME = "招标平台 e2e"
ACR_CERTIFICATE = "urn:huren:loa:2"
OID_ORG_CODE = "1.2.156.10260.4.1.4"  # GM/T 0015-2012 credit code, as `huren pki` writes it
ENCRYPTION_ONLY = "sm2_enc"
"""The role of the SM2 encryption certificate: the bridge lists it, sign-in pages must not."""


@dataclass
class World:
    server: LiveServer
    rp: RelyingParty
    bridge_port: int
    client: dict[str, Any]
    account_id: str
    """The bidder's account: the ID token's `sub` whichever certificate signs in."""
    certs: dict[str, bytes] = field(default_factory=dict)
    """DER of every certificate the bridge offers, by role."""

    @property
    def signing_roles(self) -> list[str]:
        return [role for role in self.certs if role != ENCRYPTION_ONLY]


# -- setting up: PKI, SoftHSM2, key files, the bridge -----------------------------------------


def _key_file_token(
    base: Path, name: str, key: keys.PrivateKey, cert: Certificate, password: str = PIN
) -> str:
    """A `file:` token URI: the key as encrypted PKCS#8 and its certificate."""
    key_path, cert_path = base / f"{name}.key", base / f"{name}.pem"
    key_path.write_bytes(keys.dump_private_key(key, "pem", password.encode()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.pem())
    return f"file:{key_path}?cert={cert_path}"


def _more_certificates(base: Path) -> dict[str, tuple[keys.PrivateKey, Certificate]]:
    """Certificates of the bidder the provider refuses: from a CA it does not trust, revoked
    (the hierarchy's revoked leaf, on the uploaded CRL), expired (issued by the trusted RSA
    intermediate, valid last month) and a valid one of the trusted SM2 CA not bound yet; and
    one whose key file has another password than the kiosk's PIN."""
    rsa_pki, sm2_pki = base / "rsa", base / "sm2"
    now = datetime.now(UTC)
    holder = [("C", "CN"), ("O", ORG), ("serialNumber", USCC)]
    identity = string_extension(OID_ORG_CODE, USCC)
    stranger_key = rsa.generate_private_key(65537, 2048)
    stranger = build_certificate(
        subject=[*holder, ("CN", f"{ORG} (stranger CA)")],
        subject_public_key=stranger_key.public_key(),
        issuer_key=stranger_key,
        key_usage=["digital_signature"],
        extra_extensions=[identity],
    )
    intermediate = parse_certificate((rsa_pki / "intermediate.pem").read_bytes())
    intermediate_key = keys.load_private_key((rsa_pki / "intermediate.key").read_bytes())
    expired_key = rsa.generate_private_key(65537, 2048)
    expired = build_certificate(
        subject=[*holder, ("CN", f"{ORG} (expired)")],
        subject_public_key=expired_key.public_key(),
        issuer_key=intermediate_key,
        issuer=intermediate,
        not_before=now - timedelta(days=40),
        not_after=now - timedelta(days=10),
        ca=False,
        key_usage=["digital_signature", "non_repudiation"],
        extra_extensions=[identity],
    )
    revoked_key = keys.load_private_key((rsa_pki / "revoked.key").read_bytes())
    revoked = parse_certificate((rsa_pki / "revoked.pem").read_bytes())
    sm2_intermediate = parse_certificate((sm2_pki / "intermediate.pem").read_bytes())
    new_key = sm2.generate_private_key()
    not_bound = build_certificate(
        subject=[*holder, ("CN", f"{ORG} (new USB key)")],
        subject_public_key=new_key.public_key(),
        issuer_key=keys.load_private_key((sm2_pki / "intermediate.key").read_bytes()),
        issuer=sm2_intermediate,
        not_before=now - timedelta(minutes=10),
        not_after=now + timedelta(days=30),
        ca=False,
        key_usage=["digital_signature", "non_repudiation"],
        extra_extensions=[identity],
    )
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_pin = build_certificate(
        subject=[*holder, ("CN", f"{ORG} (other PIN)")],
        subject_public_key=other_key.public_key(),
        issuer_key=other_key,
        key_usage=["digital_signature"],
    )
    return {
        "unknown_ca": (stranger_key, stranger),
        "revoked": (revoked_key, revoked),
        "expired": (expired_key, expired),
        "not_bound": (new_key, not_bound),
        "wrong_pin": (other_key, other_pin),
    }


def _prepare_provider(
    server: LiveServer, base: Path, redirect_uri: str
) -> tuple[dict[str, Any], str]:
    """What an operator does: trust the CAs, admit the bidder, bind its two certificates,
    register the trading platform. Returns the client's registration and the account id."""
    bundle = base / "cas.pem"
    bundle.write_bytes(
        b"".join(
            (base / alg / name).read_bytes()
            for alg in ("rsa", "sm2")
            for name in ("root.pem", "intermediate.pem")
        )
    )
    server.cli("ca", "add", str(bundle), "--profile", "default", "--revocation", "hard")
    registry = base / "entities.csv"
    registry.write_text(
        "entity_type,entity_name,uscc,agent_name,phone,username\n"
        f"legal_person,{ORG},{USCC},李四,13800000002,bidder\n",
        encoding="utf-8",
    )
    crls = [base / alg / crl for alg in ("rsa", "sm2") for crl in ("root.crl", "intermediate.crl")]
    *_uploaded, report = together(
        *[lambda crl=crl: server.cli("ca", "crl", "upload", str(crl)) for crl in crls],
        lambda: server.cli("entity", "import", str(registry), "--report", "-"),
    )
    (row,) = [json.loads(line) for line in report.stdout.splitlines() if line.startswith("{")]
    assert row["status"] in ("pending", "imported"), row
    together(
        lambda: server.cli("user", "password", "bidder", "--password-stdin", input=PASSWORD + "\n"),
        # no registry is configured: the operator reviews the imported entity
        lambda: (
            row["status"] == "imported"
            or server.cli("entity", "approve", row["entity_id"], "--note", "e2e")
        ),
    )
    *bound, client = together(
        *[
            lambda alg=alg: server.cli(
                "cert", "bind", "--account", "bidder", str(base / alg / "leaf.pem"), "--json"
            )
            for alg in ("rsa", "sm2")
        ],
        lambda: server.create_client(
            RP_NAME, redirect_uri=redirect_uri, scope=["openid", "profile"]
        ),
    )
    (account_id,) = {json.loads(done.stdout)["account_id"] for done in bound}
    return dict(client), account_id


def together(*jobs: Callable[[], Any]) -> list[Any]:
    """Run independent `huren` commands side by side (each is a second of start-up, mostly);
    their results in order. SQLite serialises their writes."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return [future.result() for future in [pool.submit(job) for job in jobs]]


def _start_bridge(
    base: Path, origin: str, port: int, tokens: list[str], module: str, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    pin_file = base / "pin"
    pin_file.write_text(PIN + "\n", encoding="utf-8")
    log_path = base / "bridge.log"
    args = [str(HUREN), "bridge", "serve", "--port", str(port), "--allow-origin", origin]
    args += ["--pkcs11-module", module]
    for uri in tokens:
        args += ["--token", uri]
    args += ["--kiosk-auto-approve", "--pin-file", str(pin_file)]
    bridge_env = {k: v for k, v in env.items() if not k.startswith("HUREN_")}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            args, env=bridge_env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    return proc, log_path


def _wait_for_bridge(proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while "listening on" not in log_path.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"`huren bridge serve` did not start:\n{log_path.read_text()}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One provider, one bridge for the module."""
    module = softhsm_module()
    base = tmp_path_factory.mktemp("cert-e2e")
    bridge_port = free_port()
    state: dict[str, Any] = {}

    def before_start(server: LiveServer) -> None:
        together(
            *[  # SM2: a signing and an encryption certificate, like a dual-key USBKey
                lambda alg=alg, dual=dual: server.cli(
                    "pki",
                    "hierarchy",
                    "--alg",
                    alg,
                    "--out",
                    str(base / alg),
                    "--credit-code",
                    USCC,
                    *dual,
                )
                for alg, dual in (("rsa", ()), ("sm2", ("--dual",)))
            ]
        )
        env = softhsm_token(
            base,
            module,
            base / "rsa" / "leaf.key",
            base / "rsa" / "leaf.pem",
            label=TOKEN_LABEL,
            pin=PIN,
        )
        sm2_key = keys.load_private_key((base / "sm2" / "leaf.key").read_bytes())
        sm2_cert = parse_certificate((base / "sm2" / "leaf.pem").read_bytes())
        uris = [_key_file_token(base, "sm2-leaf", sm2_key, sm2_cert)]
        certs = {
            "rsa": parse_certificate((base / "rsa" / "leaf.pem").read_bytes()).der,
            "sm2": sm2_cert.der,
        }
        # the SM2 USB key's encryption certificate, on the bridge like on a real dual-key USBKey
        enc_cert = parse_certificate((base / "sm2" / "leaf-enc.pem").read_bytes())
        enc_key = keys.load_private_key((base / "sm2" / "leaf-enc.key").read_bytes())
        uris.append(_key_file_token(base, "sm2-enc", enc_key, enc_cert))
        certs[ENCRYPTION_ONLY] = enc_cert.der
        for role, (key, cert) in _more_certificates(base).items():
            password = "not-the-kiosk-pin" if role == "wrong_pin" else PIN
            uris.append(_key_file_token(base, role, key, cert, password))
            certs[role] = cert.der
        # the bridge starts while the operator's commands run
        state["bridge"] = _start_bridge(base, server.url, bridge_port, uris, module, env)
        state["certs"] = certs
        state["client"], state["account"] = _prepare_provider(server, base, rp.redirect_uri)

    env = {"HUREN_BRIDGE_PORT": str(bridge_port), "HUREN_REVOCATION_ONLINE": "false"}
    try:
        with (
            relying_party() as rp,
            running_server(base / "huren", before_start=before_start, env=env) as server,
        ):
            proc, log_path = state["bridge"]
            _wait_for_bridge(proc, log_path)
            yield World(server, rp, bridge_port, state["client"], state["account"], state["certs"])
    finally:
        if "bridge" in state:
            proc = state["bridge"][0]
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


# -- the browser and the relying party --------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium(sync_api) as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 760})
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@dataclass
class Request:
    url: str
    verifier: str
    state: str
    nonce: str


def authorization_request(world: World, **extra: str) -> Request:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": world.client["client_id"],
            "redirect_uri": world.rp.redirect_uri,
            "scope": "openid profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
    )
    return Request(f"{world.server.url}/authorize?{query}", verifier, state, nonce)


def certificate_ids(page: Any, world: World) -> dict[str, str]:
    """The bridge's id of each certificate, by role, as the page's own client lists them."""
    listed = page.evaluate(
        "async (port) => (await (await HurenBridge.connect({ port })).certificates())",
        world.bridge_port,
    )
    by_der = {base64.b64decode(c["certificate"]): c["id"] for c in listed}
    assert set(by_der) == set(world.certs.values()), [c["subject"] for c in listed]
    return {role: by_der[der] for role, der in world.certs.items()}


def listed_by_the_page(page: Any, world: World, panel: str, button: str) -> dict[str, str]:
    """Wait until cert-login.js has listed the bridge's certificates; their ids by role."""
    # it asks the bridge on the port the provider told it (HUREN_BRIDGE_PORT)
    port = page.locator(panel).get_attribute("data-bridge-port")
    assert port == str(world.bridge_port)
    expect(page.locator(button)).to_be_enabled()  # enabled once the list is filled
    expect(page.locator("#bridge-help")).to_be_hidden()
    ids = certificate_ids(page, world)
    values = page.locator("#cert-list option").evaluate_all("(os) => os.map((o) => o.value)")
    # every certificate that can sign, and not the encryption certificate of a dual-key USBKey
    # (signing with it fails; it looks the same as its signing twin)
    by_id = {ident: role for role, ident in ids.items()}
    assert sorted(by_id[v] for v in values) == sorted(world.signing_roles)
    return ids


def open_certificate_tab(page: Any, world: World, request: Request) -> dict[str, str]:
    page.goto(request.url)
    page.wait_for_url(re.compile(re.escape(world.server.url) + r"/login\?rid="))
    page.click("#tab-cert")
    page.wait_for_url(re.compile(r"/login\?.*method=cert"))
    return listed_by_the_page(page, world, "#cert-panel", "#cert-sign")


def finish_at_the_rp(page: Any, world: World, request: Request) -> dict[str, str]:
    """Past the consent page if it is shown; the parameters the relying party received."""
    rp = re.escape(world.rp.redirect_uri)
    consent = re.escape(world.server.url) + r"/consent\?"
    page.wait_for_url(re.compile(f"^({rp}|{consent})"))
    if page.url.startswith(world.server.url + "/consent"):
        expect(page.locator("main")).to_contain_text(RP_NAME)
        page.click("#allow")
        page.wait_for_url(re.compile("^" + rp))
    expect(page.locator("#rp")).to_be_visible()
    (params,) = world.rp.arrivals(request.state)
    return params


def exchange(world: World, request: Request, params: dict[str, str]) -> dict[str, Any]:
    """The relying party's token request; the verified ID token's claims."""
    assert params.get("iss") == world.server.url and "error" not in params, params
    response = requests.post(
        world.server.url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": world.rp.redirect_uri,
            "code_verifier": request.verifier,
        },
        auth=(world.client["client_id"], world.client["client_secret"]),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    jwks = requests.get(world.server.url + "/jwks", timeout=HTTP_TIMEOUT).json()
    token = jwt.decode(response.json()["id_token"], KeySet.import_key_set(jwks), ["RS256"])
    claims = dict(token.claims)
    assert claims["iss"] == world.server.url and claims["aud"] == world.client["client_id"]
    assert claims["nonce"] == request.nonce and claims["exp"] > time.time()
    return claims


# -- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rsa", "sm2"], ids=["rsa-softhsm2", "sm2-key-file"])
def test_certificate_login_from_the_rp_to_an_id_token(page: Any, world: World, role: str) -> None:
    request = authorization_request(world)
    ids = open_certificate_tab(page, world, request)
    page.select_option("#cert-list", value=ids[role])
    page.click("#cert-sign")
    claims = exchange(world, request, finish_at_the_rp(page, world, request))
    assert claims["acr"] == ACR_CERTIFICATE
    assert "hwk" in claims["amr"] and "pop" in claims["amr"]
    assert claims["sub"] == world.account_id  # two CAs' certificates, one account


@pytest.mark.parametrize(
    ("role", "status", "text"),
    [
        pytest.param("unknown_ca", 401, "证书的签发机构（CA）不受本平台信任。", id="unknown_ca"),
        pytest.param("revoked", 401, "证书已被签发机构吊销。", id="revoked"),
        pytest.param("expired", 401, "证书已过期。", id="expired"),
        pytest.param(
            "not_bound",
            403,
            "该证书尚未绑定账户：请使用密码登录后，在 /account/certificates 绑定",
            id="not_bound",
        ),
    ],
)
def test_refused_certificates_show_why_and_send_nothing_to_the_rp(
    page: Any, world: World, role: str, status: int, text: str
) -> None:
    request = authorization_request(world)
    ids = open_certificate_tab(page, world, request)
    page.select_option("#cert-list", value=ids[role])
    with page.expect_response(re.compile(r"/login/cert$")) as answer:
        page.click("#cert-sign")
    assert answer.value.status == status
    refusal = page.locator("#cert-refusal")
    expect(refusal).to_have_attribute("data-reason", role)
    expect(refusal).to_contain_text(text)
    expect(page.locator("h1")).to_have_text("数字证书登录被拒绝")
    assert world.rp.arrivals(request.state) == []  # nothing reached the platform
    # back to the same request's certificate tab: the right certificate completes it
    page.click("#back-to-login")
    page.wait_for_url(re.compile(r"/login\?.*method=cert"))
    ids = listed_by_the_page(page, world, "#cert-panel", "#cert-sign")
    page.select_option("#cert-list", value=ids["sm2"])
    page.click("#cert-sign")
    assert exchange(world, request, finish_at_the_rp(page, world, request))["acr"]


def test_a_replayed_signed_form_is_refused(page: Any, world: World) -> None:
    request = authorization_request(world)
    ids = open_certificate_tab(page, world, request)
    page.select_option("#cert-list", value=ids["rsa"])
    with page.expect_request(re.compile(r"/login/cert$")) as posted:
        page.click("#cert-sign")
    body = posted.value.post_data
    assert body and "signature=" in body and "challenge_id=" in body
    first = finish_at_the_rp(page, world, request)
    assert first["code"]

    # the same signed form again, with this browser's cookies, as a page of the provider would
    again = page.request.post(
        world.server.url + "/login/cert",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": world.server.url,
        },
        max_redirects=0,
    )
    assert again.status == 400, again.text()[:500]
    html = again.text()
    assert 'data-reason="challenge_replayed"' in html
    assert "该登录挑战不存在、已被使用或属于另一浏览器会话" in html
    assert world.rp.arrivals(request.state) == [first]  # no second code


def test_a_page_of_another_origin_gets_help_and_no_certificates(page: Any, world: World) -> None:
    # the same provider, reached as localhost: the bridge allows only 127.0.0.1:PORT
    page.goto(f"http://localhost:{world.server.port}/login?method=cert")
    help_text = page.locator("#bridge-help")
    expect(help_text).to_be_visible()
    expect(help_text).to_contain_text("不允许本网站使用")
    expect(help_text).to_contain_text(f"--allow-origin http://localhost:{world.server.port}")
    expect(page.locator("#cert-list option")).to_have_count(0)
    expect(page.locator("#cert-list")).to_be_disabled()
    expect(page.locator("#cert-sign")).to_be_disabled()
    expect(page.locator("#cert-error")).to_be_hidden()


def test_bind_from_the_bridge_then_step_up_with_that_certificate(page: Any, world: World) -> None:
    """/account/certificates takes a certificate from the bridge (same port setting); a
    platform then asks for the certificate level (acr_values) on top of the password session."""
    server = world.server
    page.goto(server.url + "/login?next=/account/certificates")
    page.fill("#username", "bidder")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(server.url + "/account/certificates")
    ids = listed_by_the_page(page, world, "#bind-bridge", "#cert-pick")

    page.select_option("#cert-list", value=ids["unknown_ca"])
    page.click("#cert-pick")
    expect(page.locator("#binding-error")).to_have_text("证书的签发机构（CA）不受本平台信任。")

    ids = listed_by_the_page(page, world, "#bind-bridge", "#cert-pick")
    page.select_option("#cert-list", value=ids["not_bound"])
    page.click("#cert-pick")
    page.wait_for_url(server.url + "/account/certificates")
    expect(page.locator(".notice")).to_contain_text("证书已绑定")
    fingerprint = hashlib.sha256(world.certs["not_bound"]).hexdigest()
    expect(page.locator(f'tr[data-fingerprint="{fingerprint}"]')).to_be_visible()
    try:
        request = authorization_request(world, acr_values=ACR_CERTIFICATE)
        page.goto(request.url)
        page.wait_for_url(re.compile(re.escape(server.url) + r"/login\?rid="))
        expect(page.locator("#cert-required")).to_be_visible()  # no password tab offered
        expect(page.locator("#tab-password")).to_have_count(0)
        ids = listed_by_the_page(page, world, "#cert-panel", "#cert-sign")
        page.select_option("#cert-list", value=ids["not_bound"])
        page.click("#cert-sign")
        claims = exchange(world, request, finish_at_the_rp(page, world, request))
        assert claims["acr"] == ACR_CERTIFICATE and "hwk" in claims["amr"]
    finally:
        server.cli("cert", "unbind", fingerprint)  # other tests expect it unbound


def test_a_bridge_error_is_shown_on_the_page(page: Any, world: World) -> None:
    """The bridge answers wrong_pin (the key file's password is not the kiosk's PIN): the page
    shows the bridge's message, lets the person try again, and posts nothing."""
    request = authorization_request(world)
    ids = open_certificate_tab(page, world, request)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.url.endswith("/login/cert") else None)
    page.select_option("#cert-list", value=ids["wrong_pin"])
    page.click("#cert-sign")
    expect(page.locator("#cert-error")).to_be_visible()
    expect(page.locator("#cert-error")).to_have_text("PIN 码错误")
    expect(page.locator("#cert-sign")).to_be_enabled()
    assert posts == [] and world.rp.arrivals(request.state) == []
    # the right certificate still works on the same page
    page.select_option("#cert-list", value=ids["rsa"])
    page.click("#cert-sign")
    claims = exchange(world, request, finish_at_the_rp(page, world, request))
    assert claims["acr"] == ACR_CERTIFICATE
