"""What a B-LT stamp embeds: the signer's chain as the trust store builds it, and its CRLs.

Both the CLI and the API stamp at B-LT; the rule for what goes into the document's DSS is
here once. Only CRLs the trust store already holds are embedded (uploaded or fetched): a
stamp never waits on a CA's distribution point.
"""

from __future__ import annotations

from cert_interop.x509 import Certificate

from .errors import SealError
from .pdf import RevocationMaterial
from .records.service import CertificateChecker


class RevocationDataMissing(SealError):
    code = "revocation_data_missing"
    message_zh = "B-LT 签章需要证书链的吊销信息（CRL），信任库中没有"


class SignerNotTrusted(SealError):
    code = "signer_not_trusted"
    message_zh = "签章证书未通过信任库验证"


def revocation_material(trust_store: CertificateChecker, cert: Certificate) -> RevocationMaterial:
    result = trust_store.validate(cert, purpose="sign")
    if not result.valid:
        raise SignerNotTrusted(f"the signing certificate does not validate: {result.detail}")
    chain = [c for c in result.chain if c.der != cert.der]
    subjects = {c.subject.der for c in result.chain}
    crls_of = getattr(trust_store, "crls", None)
    records = crls_of() if callable(crls_of) else []
    crls = [r.crl.der for r in records if r.crl.issuer.der in subjects]
    if not crls:
        raise RevocationDataMissing(
            "B-LT embeds revocation data, but the trust store holds no CRL for this chain: "
            "upload one with `huren ca crl upload`"
        )
    return RevocationMaterial(certificates=tuple(c.der for c in chain), crls=tuple(crls))
