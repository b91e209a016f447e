"""The QR payload printed on every page of an issued form, and its authentication tag.

``FT1|<site>|<serial>|<page>/<pages>|<template>@<version>|<tag>``: the tag is the first 16 base32
characters (80 bits) of HMAC-SHA256 over everything before it, keyed with the site's secret, which never
leaves the database. Anyone can read a code; only the site can make one that verifies.

A numbered preview of controlled copies (before their one release) prints
``FT1|PREVIEW ONLY|<site>|<serial>|<page>/<pages>|<template>@<version>``: it reads as ours (so a scanned
preview is reported, not ignored as a foreign code), carries no tag, and ``parse``/``verify`` refuse it by
name, so it is never linked. The space keeps it apart from every payload: no site code can contain one.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re

PREFIX = "FT1"
TAG_LENGTH = 16
PREVIEW_MARK = "PREVIEW ONLY"
_PREVIEW_PREFIX = f"{PREFIX}|{PREVIEW_MARK}|"
_FIELD_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
_PAYLOAD_RE = re.compile(
    r"^FT1\|(?P<site>[^|]+)\|(?P<serial>[0-9]+)\|(?P<page>[0-9]+)/(?P<pages>[0-9]+)\|"
    r"(?P<template>[^|@]+)@(?P<version>[0-9]+)\|(?P<tag>[A-Z2-7]+)$"
)
_PREVIEW_RE = re.compile(r"^FT1\|PREVIEW ONLY\|[^|]*\|(?P<serial>[0-9]+)\|(?P<page>[0-9]+)/(?P<pages>[0-9]+)\|")


class PayloadError(ValueError):
    """The text is not a Formtrail payload, or its tag does not verify."""


@dataclasses.dataclass(frozen=True)
class Payload:
    site: str
    serial: str
    page: int
    pages: int
    template: str
    version: int

    def body(self) -> str:
        return f"{PREFIX}|{self.site}|{self.serial}|{self.page}/{self.pages}|{self.template}@{self.version}"

    def encode(self, key: bytes) -> str:
        """The complete text to put into the QR code."""
        self._check()
        return f"{self.body()}|{tag(key, self.body())}"

    def code_text(self, key: bytes | None, *, preview: bool = False) -> str:
        """What the code prints: tagged with ``key`` (a controlled copy), or ``preview_text`` (a preview)."""
        if preview:
            return self.preview_text()
        if key is None:
            raise PayloadError("the code of a controlled copy needs the site's key")
        return self.encode(key)

    def preview_text(self) -> str:
        """The text for the code of a numbered preview: the same identity, marked PREVIEW ONLY, with no tag."""
        self._check()
        return f"{_PREVIEW_PREFIX}{self.body().removeprefix(PREFIX + '|')}"

    def _check(self) -> None:
        for name, value in (("site", self.site), ("template", self.template)):
            if not _FIELD_RE.match(value):
                raise PayloadError(f"{name} {value!r} cannot go into a QR payload (capitals, digits, . _ -)")
        if not self.serial.isdigit():
            raise PayloadError(f"serial {self.serial!r} must be digits")
        if not 1 <= self.page <= self.pages:
            raise PayloadError(f"page {self.page} of {self.pages} is out of range")


def tag(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:TAG_LENGTH]


def looks_like_ours(text: str) -> bool:
    """A Formtrail code (whatever its tag says): used to ignore foreign codes on a page."""
    return text.startswith(PREFIX + "|")


def is_preview(text: str) -> bool:
    """The code of a numbered preview (``Payload.preview_text``): never a controlled copy."""
    return text.strip().startswith(_PREVIEW_PREFIX)


def _preview_refusal(text: str) -> PayloadError:
    match = _PREVIEW_RE.match(text.strip())
    which = f" of serial {match['serial']} page {match['page']}/{match['pages']}" if match else ""
    return PayloadError(f"the code of a PREVIEW print{which}: a preview is not a controlled copy and is never "
                        "linked (the controlled copy itself has to come back)")


def parse(text: str) -> tuple[Payload, str]:
    """Split a decoded text into its payload and tag, without checking the tag. A preview's code is refused
    (PayloadError naming it), so nothing that parses codes can take a preview for a copy."""
    if is_preview(text):
        raise _preview_refusal(text)
    match = _PAYLOAD_RE.match(text.strip())
    if match is None:
        raise PayloadError("not a Formtrail form code")
    g = match.groupdict()
    payload = Payload(site=g["site"], serial=g["serial"], page=int(g["page"]), pages=int(g["pages"]),
                      template=g["template"], version=int(g["version"]))
    return payload, g["tag"]


def verify(text: str, key: bytes) -> Payload:
    """Parse and check the tag; raises PayloadError("... does not verify") for a forged or altered code."""
    payload, given = parse(text)
    if not hmac.compare_digest(given, tag(key, payload.body())):
        raise PayloadError("the code's authentication tag does not verify (altered or forged code)")
    return payload
