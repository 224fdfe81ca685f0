"""Huren certificate interoperability library (floor 1, no Flask).

National algorithms (SM2/SM3/SM4) and key handling behind one small API:
``cert_interop.sm3``, ``cert_interop.sm4``, ``cert_interop.sm2`` and ``cert_interop.keys``.
Every failure is a :class:`cert_interop.errors.CertInteropError`.
"""
