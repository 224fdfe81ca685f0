"""Some CA kits put identity values raw (not DER) in an extension: such certificates still parse."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from cert_interop.x509 import ExtensionSpec, build_certificate, parse_certificate


def test_raw_extension_value_is_kept_as_bytes() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    raw = b"91350100M000100Y43"  # not DER: no tag, no length
    cert = build_certificate(
        subject=[("CN", "raw-ext")],
        subject_public_key=key.public_key(),
        issuer_key=key,
        extra_extensions=[ExtensionSpec("1.2.156.10260.4.1.4", raw, False)],
    )
    parsed = parse_certificate(cert.der)
    ext = parsed.extension("1.2.156.10260.4.1.4")
    assert ext is not None and ext.value_der == raw and ext.text is None
