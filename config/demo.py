"""Demo data for `make run`: one relying party (the demo page at /demo/) and one user, created once.

The generated password and client secret are kept in `<data dir>/demo.json` (mode 0600) so a
second `make run` prints the same ones.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import click

from cert_interop.pki_cli import write_hierarchy
from idp.accounts import create_user, set_operator, set_password
from idp.clients import create_client, get_client
from idp.entities.pii import PersonalData
from idp.errors import AccountError

from .runtime import Runtime

DEMO_FILE = "demo.json"
DEMO_CLIENT_ID = "huren-demo-rp"
DEMO_API_CLIENT_ID = "huren-demo-api"
DEMO_PKI_DIR = "demo-pki"
DEMO_OPERATOR = "demo-operator"
CRYPTO_SCOPES = ["crypto:verify", "crypto:sign", "crypto:encrypt", "crypto:decrypt"]


def load_demo(data_dir: os.PathLike[str] | str) -> dict[str, Any] | None:
    path = os.path.join(data_dir, DEMO_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
            return data
    except (OSError, ValueError):
        return None


def seed(rt: Runtime) -> None:
    settings = rt.settings
    demo = load_demo(settings.data_dir)
    if demo is None or get_client(rt.sessions, demo["client_id"]) is None:
        issuer = settings.issuer
        password = secrets.token_urlsafe(9)
        new = create_client(
            rt.sessions,
            client_id=DEMO_CLIENT_ID,
            name="演示交易平台 (Demo trading platform)",
            redirect_uris=[issuer + "/demo/callback"],
            post_logout_redirect_uris=[issuer + "/demo/"],
            backchannel_logout_uri=issuer + "/demo/backchannel-logout",
        )
        create_user(
            rt.sessions,
            username="demo",
            password=password,
            name="演示用户",
            phone="13800000000",
            email="demo@example.cn",
            pii=PersonalData(rt.master_secret),
        )
        demo = {
            "client_id": new.client.client_id,
            "client_secret": new.client_secret,
            "username": "demo",
            "password": password,
        }
        _save(settings.data_dir, demo)
    if "api_client_id" not in demo or get_client(rt.sessions, demo["api_client_id"]) is None:
        demo.update(_seed_crypto(rt))
        _save(settings.data_dir, demo)
    if "operator_password" not in demo:
        demo.update(_seed_operator(rt))
        _save(settings.data_dir, demo)
    if "seal_id" not in demo:
        demo.update(_seed_seal(rt, Path(demo["pki_dir"])))
        _save(settings.data_dir, demo)
    base = f"http://{settings.host}:{settings.port}"
    click.echo("")
    click.echo("Huren demo")
    click.echo(f"  demo relying party:  {base}/demo/")
    click.echo(f"  demo user:           {demo['username']} / {demo['password']}")
    click.echo(f"  demo operator:       {demo['operator_username']} / {demo['operator_password']}")
    click.echo(f"  review queue:        {base}/operator/entities")
    click.echo(f"  register an entity:  {base}/register")
    if settings.environment == "development":
        click.echo(f"  SMS codes (dev):     {base}/dev/sms")
    click.echo(f"  demo client_id:      {demo['client_id']}")
    click.echo(f"  demo client_secret:  {demo['client_secret']}")
    click.echo(f"  discovery:           {settings.issuer}/.well-known/openid-configuration")
    click.echo(f"  API client (crypto): {demo['api_client_id']} / {demo['api_client_secret']}")
    click.echo(f"  demo SM2 PKI:        {demo['pki_dir']} (trusted, profile gmt0015-2012)")
    click.echo(f"  API description:     {settings.issuer}/api/v1/openapi.json")
    if demo.get("seal_id"):
        pki = demo["pki_dir"]
        click.echo(f"  demo seal:           {demo['seal_id']} (合同专用章 of 测试投标有限公司)")
        click.echo(
            f"  stamp a PDF (try):   huren seal stamp --seal {demo['seal_id']} "
            f"--key 'file:{pki}/leaf.key?cert={pki}/leaf.pem' --in A.pdf --out B.pdf "
            "--page 1 --x 300 --y 300   then   huren seal verify B.pdf"
        )
    pki = demo["pki_dir"]
    click.echo(
        "  platform key (try):  HUREN_PLATFORM_KEYS="
        f"'bid-opening=file:{pki}/leaf-enc.key?cert={pki}/leaf-enc.pem'"
    )
    click.echo("")


def _seed_operator(rt: Runtime) -> dict[str, Any]:
    """An operator, so the review queue can be tried (organisations wait there while no
    registry is configured)."""
    password = secrets.token_urlsafe(9)
    try:
        create_user(
            rt.sessions,
            username=DEMO_OPERATOR,
            password=password,
            name="演示运营人员",
            operator=True,
        )
    except AccountError:  # demo.json was lost but the account is still there
        set_password(rt.sessions, DEMO_OPERATOR, password)
        set_operator(rt.sessions, DEMO_OPERATOR, True)
    return {"operator_username": DEMO_OPERATOR, "operator_password": password}


def _save(data_dir: Path, demo: dict[str, Any]) -> None:
    fd = os.open(data_dir / DEMO_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(demo, fh)


def _seed_crypto(rt: Runtime) -> dict[str, Any]:
    """A trusted SM2 test hierarchy (dual certificates) and a client-credentials client with
    the crypto scopes, so the integrator API can be tried at once. Its CA is soft-fail: the
    demo certificates name revocation URLs nobody serves."""
    pki_dir = rt.settings.data_dir / DEMO_PKI_DIR
    if (pki_dir / "root.pem").exists():
        root, inter = (
            (pki_dir / "root.pem").read_bytes(),
            (pki_dir / "intermediate.pem").read_bytes(),
        )
    else:
        made = write_hierarchy(pki_dir, alg="sm2", dual=True, cn_prefix="Huren Demo")
        root, inter = made.root.pem(), made.intermediate.pem()
    rt.trust_store.add(root + inter, profile="gmt0015-2012", revocation_policy="soft")
    new = create_client(
        rt.sessions,
        client_id=DEMO_API_CLIENT_ID,
        name="演示对接系统 (Demo API client)",
        grant_types=["client_credentials"],
        scopes=CRYPTO_SCOPES,
    )
    return {
        "api_client_id": new.client.client_id,
        "api_client_secret": new.client_secret,
        "pki_dir": str(pki_dir),
    }


def _seed_seal(rt: Runtime, pki_dir: Path) -> dict[str, Any]:
    """The demo PKI's bidder (测试投标有限公司, its SM2 signing certificate) as a verified entity
    with an active contract seal, made by a demo seal-making key issued by the demo
    intermediate, so `huren seal stamp` / `verify` can be tried at once."""
    from datetime import UTC, datetime, timedelta

    from cert_interop import keys, sm2
    from cert_interop.pki_cli import DEFAULT_CREDIT_CODE, DEFAULT_ORG
    from cert_interop.x509 import build_certificate, parse_certificate
    from idp.entities import service as entities
    from idp.entities.errors import DuplicateEntity
    from seal.records import service as seals
    from seal.records.making import sign_draft

    from .seal_wiring import IdpEntityDirectory

    pii = PersonalData(rt.master_secret)
    try:
        view = entities.import_entity(
            rt.sessions,
            pii,
            entities.EntityFields(
                entity_type="legal_person",
                name=DEFAULT_ORG,
                username="demo-bidder",
                account_name="演示经办人",
                phone="13800000001",
                uscc=DEFAULT_CREDIT_CODE,
                id_type=None,
                id_number=None,
            ),
            status="verified",
            actor="demo",
        )
        entity_id = view.id
    except DuplicateEntity:
        return {}
    inter_key = keys.load_private_key((pki_dir / "intermediate.key").read_bytes())
    inter = parse_certificate((pki_dir / "intermediate.pem").read_bytes())
    maker_key = sm2.generate_private_key()
    now = datetime.now(UTC) - timedelta(minutes=5)
    maker_cert = build_certificate(
        subject=[("C", "CN"), ("O", "Huren Demo"), ("CN", "演示电子印章制作中心")],
        subject_public_key=maker_key.public_key(),
        issuer_key=inter_key,
        issuer=inter,
        not_before=now,
        not_after=now + timedelta(days=365),
        key_usage={"digital_signature", "non_repudiation"},
    )
    (pki_dir / "seal-maker.pem").write_bytes(maker_cert.pem())

    class Maker:
        name = "demo-seal-maker"
        certificate = maker_cert

        def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
            from cert_interop.signatures import sign

            return sign(maker_key, algorithm, data=data, digest=digest)

    picture = _demo_picture()
    seal = seals.make(
        rt.sessions,
        IdpEntityDirectory(rt.sessions, rt.master_secret),
        rt.trust_store,
        Maker(),
        sign_draft,
        seals.SealRequest(
            entity_id=entity_id,
            seal_type="contract",
            name=f"{DEFAULT_ORG}合同专用章",
            picture=picture,
            certificates=[parse_certificate((pki_dir / "leaf.pem").read_bytes())],
        ),
        actor="demo",
        activate=True,
    )
    return {"seal_id": seal.id}


def _demo_picture() -> bytes:
    """A red round seal drawn with Pillow (a ring, a star), PNG with transparency."""
    import io
    import math

    from PIL import Image, ImageDraw

    size = 240
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (200, 16, 16, 255)
    draw.ellipse((8, 8, size - 8, size - 8), outline=red, width=10)
    c, r = size / 2, 40
    points = [
        (c + r * math.sin(i * math.pi * 4 / 5), c - r * math.cos(i * math.pi * 4 / 5))
        for i in range(5)
    ]
    draw.polygon(points, fill=red)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
