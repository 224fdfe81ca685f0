"""Mobile QR-code login (§6.3.2 a): the login page shows a QR code, the enrolled mobile app scans
it, shows who is asking, and confirms with a request signed by its device key.

The parts:

- `tickets`: one ticket per QR code, in the ephemeral store (it expires with its state), bound
  to the browser session that opened it, moved through ``created → scanned → confirmed`` (or
  ``cancelled``; ``expired`` when its time is up) by atomic markers, completed once.
- `devices`: the enrolled devices (SQL table ``mobile_device``), enrollment with the password
  and an SMS code, revocation, and the check of a signed device request (signature, clock
  skew, nonce replay cache in the ephemeral store).
- `device_api`: ``/api/v1/mobile/...`` (JSON, no cookies, device signatures instead of bearer
  tokens); `pages`: the browser's ``/login/qr...`` routes and ``/account/devices``; `qr`: the
  QR code as SVG; `cli`: ``huren device list|revoke``; `errors`: the device API's refusals.

The flow and the integration of a mobile app are described in ``docs/mobile-qr-login.md``.

What a QR login asserts (``amr``, RFC 8176 §2) and at which level (``acr``):

- ``mca`` (multiple-channel authentication): the login involves two distinct channels, the
  browser that shows the QR code and polls, and the phone that talks to the provider over its
  own connection with its own key. The browser completes nothing until the phone has said so.
- ``swk`` (proof of possession of a software-secured key): the phone proves possession of its
  device key by signing each request. We cannot attest where the key lives (the reference
  clients keep it in WebCrypto or a file; an app may use a secure element, but nothing proves
  it to us), so the honest claim is ``swk``, never ``hwk``.
- Not ``mfa``: at login time the only thing proven is possession of the device key; the
  password and SMS code were checked once, at enrollment. Not ``user``: the app asks the person
  to tap "confirm", but the provider cannot tell a person's tap from a program's.
- ``acr`` is the password level, ``urn:huren:loa:1``: one factor (something you have, a
  software key), no certificate, no entity identity. It therefore never satisfies a request for
  certificate login (``acr_values`` ``urn:huren:loa:2``): the QR tab is not offered then.

Kept free of imports (like `idp.certlogin`), so that anything may read these constants.
"""

from __future__ import annotations

ACR_QR = "urn:huren:loa:1"
"""The password level (`idp.certlogin.ACR_PASSWORD`): see the module docstring."""
AMR_QR = ("mca", "swk")
"""RFC 8176: multiple-channel authentication, proof of possession of a software-secured key."""
METHOD = "qr"
"""`method` in audit rows of this login method."""

__all__ = ["ACR_QR", "AMR_QR", "METHOD"]
