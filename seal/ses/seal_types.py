"""Integer seal type codes (``SES_ESPropertyInfo.type``) and their names.

GB/T 38540 leaves ``type`` an INTEGER. We use the seal type codes of the public-security seal
registry (印章类型代码: 01 单位专用章/法定名称章, 02 财务专用章, 03 发票专用章, 04 合同专用章,
05 法定代表人名章, 99 其他), which two vendor code bases use and which a real GB/T 38540 seal
in ofdrw's test data carries (type 4 on a 合同专用章). Code 1 also keeps the meaning of GM/T
0031-2014's 1 = 单位印章. A personal signature seal has no code of its own in that table, so it is
99 (其他) — not 5, which names the legal representative's seal specifically.

Version 1 (GM/T 0031) seals use their own two codes: 1 = 单位印章, 2 = 个人印章.
"""

from __future__ import annotations

from typing import Final

LEGAL_PERSON: Final = 1
"""法定名称章（公章）."""
FINANCE: Final = 2
"""财务专用章."""
INVOICE: Final = 3
"""发票专用章."""
CONTRACT: Final = 4
"""合同专用章."""
LEGAL_REPRESENTATIVE: Final = 5
"""法定代表人名章."""
PERSONAL: Final = 99
"""个人签名章 (其他)."""

NAMES: Final[dict[int, tuple[str, str]]] = {
    LEGAL_PERSON: ("法定名称章（公章）", "legal-person seal"),
    FINANCE: ("财务专用章", "finance seal"),
    INVOICE: ("发票专用章", "invoice seal"),
    CONTRACT: ("合同专用章", "contract seal"),
    LEGAL_REPRESENTATIVE: ("法定代表人名章", "legal representative's seal"),
    PERSONAL: ("个人签名章", "personal seal (signature)"),
}
"""Version 4 code → (Chinese, English) name."""

NAMES_V1: Final[dict[int, tuple[str, str]]] = {
    1: ("单位印章", "organisation seal"),
    2: ("个人印章", "personal seal"),
}

BY_RECORD_TYPE: Final[dict[str, int]] = {
    "legal_person": LEGAL_PERSON,
    "contract": CONTRACT,
    "finance": FINANCE,
    "personal": PERSONAL,
}
"""The seal service's type names (``seal.records``) → the code written into the seal."""


def type_name(code: int, version: int = 4) -> tuple[str, str]:
    """(Chinese, English) name of a type code as read in a seal of that structure version."""
    table = NAMES_V1 if version == 1 else NAMES
    return table.get(code, (f"未知类型（{code}）", f"unknown type ({code})"))
