"""From a checked draft to the signed GB/T 38540 structure: the one place records meet `ses`."""

from __future__ import annotations

from datetime import UTC, datetime

from ..ses import SealInfo, SealPicture, make_seal, seal_types
from .service import SealDraft, SealMaker


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(int(ts), UTC)


def sign_draft(draft: SealDraft, maker: SealMaker) -> bytes:
    """DER `SESeal` (version 4) of the draft, signed with the maker's key (SM2 or RSA)."""
    info = SealInfo(
        seal_id=draft.seal_id,
        seal_type=seal_types.BY_RECORD_TYPE[draft.seal_type],
        name=draft.name,
        picture=SealPicture(draft.picture_type, draft.picture, draft.width_mm, draft.height_mm),
        created=_at(draft.created_at),
        valid_start=_at(draft.valid_from),
        valid_end=_at(draft.valid_until),
        certificates=tuple(c.der for c in draft.certificates),
    )
    return make_seal(info, maker, maker.certificate)
