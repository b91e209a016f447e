"""PDF/A-2b for the reports Formtrail prints and archives (BK-04): readable in decades, without the app.

reportlab writes the pages (with the DejaVu fonts embedded, see ``fonts``); :func:`make_pdfa` then adds what
PDF/A-2b asks beyond that: an sRGB output intent with its ICC profile, XMP metadata that says
``pdfaid:part=2, conformance=B`` and agrees with the document information, and a document ID.

:func:`check_pdfa` is a strict structural check of those essentials, used by the tests and by ``archive verify``
(no full validator such as veraPDF could be installed where this was built): header version, no encryption, the
trailer ID, the XMP identification, the output intent and its profile, every font embedded, no JavaScript or
launch actions, no embedded files, no LZW, no image interpolation, annotations printable.
"""

from __future__ import annotations

import functools
import io
import re
import struct
from xml.etree import ElementTree

import pikepdf

PART, CONFORMANCE = "2", "B"
_ICC_NAME = "sRGB IEC61966-2.1"


# -- the sRGB profile ------------------------------------------------------------------------------------------
def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    # textDescriptionType: ASCII, then empty Unicode and ScriptCode parts (67 bytes of ScriptCode filler).
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_ + b"\0" * 8 + b"\0\0\0" + b"\0" * 67


def _curve() -> bytes:
    """The sRGB tone curve (IEC 61966-2.1) sampled at 1024 points."""
    points = []
    for i in range(1024):
        v = i / 1023
        linear = v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
        points.append(round(linear * 65535))
    return b"curv\0\0\0\0" + struct.pack(">I", len(points)) + struct.pack(f">{len(points)}H", *points)


@functools.cache
def srgb_profile() -> bytes:
    """A version 2.1 sRGB display profile (PDF/A-2 takes ICC profiles up to version 4; version 2 is what every
    reader knows). Made here rather than shipped as a file: a few hundred bytes, the same on every build."""
    curve = _curve()
    tags = [(b"desc", _desc(_ICC_NAME)), (b"cprt", b"text\0\0\0\0No copyright, use freely\0"),
            (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),  # media white in the PCS (D50), as ICC v2 display profiles do
            (b"rXYZ", _xyz(0.4361, 0.2225, 0.0139)), (b"gXYZ", _xyz(0.3851, 0.7169, 0.0971)),
            (b"bXYZ", _xyz(0.1431, 0.0606, 0.7141)), (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table, body, placed = b"", b"", {}
    for sig, data in tags:
        if data not in placed:  # the three curves share one copy
            placed[data] = offset + len(body)
            body += data + b"\0" * (-len(data) % 4)
        table += sig + struct.pack(">II", placed[data], len(data))
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"\0\0\0\0" + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24 + b"\0\0\0\0"
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


# -- making a PDF/A-2b -------------------------------------------------------------------------------------------
# reportlab's placeholders, which XMP would have to repeat, and the producer: pyHanko, signing, sets it in both
# the information dictionary and XMP to its own name unless the dictionary already holds more (then they differ).
_DROP_INFO = ("/Trapped", "/Subject", "/Keywords", "/Producer")


def make_pdfa(data: bytes) -> bytes:
    """``data`` (a PDF whose fonts are embedded) as PDF/A-2b: output intent, XMP identification, document ID."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for key in _DROP_INFO:
            value = pdf.docinfo.get(key)
            if value is not None and (key in ("/Trapped", "/Producer") or str(value) in ("", "(unspecified)")):
                del pdf.docinfo[key]
        profile = pikepdf.Stream(pdf, srgb_profile())
        profile.N = 3
        intent = pikepdf.Dictionary(Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
                                    OutputConditionIdentifier=_ICC_NAME, Info=_ICC_NAME,
                                    RegistryName="http://www.color.org", DestOutputProfile=profile)
        pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(intent)])
        pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=False)
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta.load_from_docinfo(pdf.docinfo)
            meta["pdfaid:part"] = PART
            meta["pdfaid:conformance"] = CONFORMANCE
        out = io.BytesIO()
        # qpdf keeps the document ID reportlab wrote (both halves), which PDF/A requires in the trailer.
        pdf.save(out, fix_metadata_version=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


# -- checking ------------------------------------------------------------------------------------------------------
_PDFAID_NS = "http://www.aiim.org/pdfa/ns/id/"
_PDF_NS = "http://ns.adobe.com/pdf/1.3/"


def _xmp_properties(xmp: bytes) -> dict[tuple[str, str], str]:
    """(namespace, name) -> value of an XMP packet's simple properties, written as elements or attributes."""
    try:
        root = ElementTree.fromstring(xmp)
    except ElementTree.ParseError:
        return {}
    found: dict[tuple[str, str], str] = {}
    for element in root.iter():
        for key, value in element.attrib.items():
            if key.startswith("{"):
                namespace, name = key[1:].split("}", 1)
                found[namespace, name] = value.strip()
        if isinstance(element.tag, str) and element.tag.startswith("{") and len(element) == 0:
            namespace, name = element.tag[1:].split("}", 1)
            found[namespace, name] = (element.text or "").strip()
    return found


def check_pdfa(data: bytes) -> list[str]:
    """The PDF/A-2b essentials ``data`` breaks, each named ([]: none found)."""
    problems: list[str] = []
    head = data[:16]
    match = re.match(rb"%PDF-(\d)\.(\d)", head)
    if match is None:
        return ["not a PDF: no %PDF- header"]
    if (int(match.group(1)), int(match.group(2))) > (1, 7):
        problems.append(f"header says PDF {match.group(1).decode()}.{match.group(2).decode()}, PDF/A-2 is at most 1.7")
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        return ["encrypted (PDF/A forbids encryption)"]
    except pikepdf.PdfError as exc:
        return [f"not a readable PDF: {exc}"]
    with pdf:
        if pdf.is_encrypted or "/Encrypt" in pdf.trailer:
            problems.append("encrypted (PDF/A forbids encryption)")
        ids = pdf.trailer.get("/ID")
        if not isinstance(ids, pikepdf.Array) or len(ids) != 2:
            problems.append("no document ID in the trailer")
        problems += _metadata_problems(pdf)
        problems += _intent_problems(pdf)
        for number, obj in enumerate(pdf.objects):
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                problems += _object_problems(obj, number)
        names = pdf.Root.get("/Names")
        if names is not None and "/JavaScript" in names:
            problems.append("document-level JavaScript")
        if names is not None and "/EmbeddedFiles" in names:
            problems.append("embedded files")
        if "/AA" in pdf.Root:
            problems.append("document additional actions (/AA)")
    return sorted(set(problems))


def _metadata_problems(pdf: pikepdf.Pdf) -> list[str]:
    stream = pdf.Root.get("/Metadata")
    if not isinstance(stream, pikepdf.Stream):
        return ["no XMP metadata stream"]
    raw = stream.read_bytes()
    props = _xmp_properties(raw)
    xmp = raw.decode("utf-8", "replace")
    problems = []
    if "/Filter" in stream:
        problems.append("the XMP metadata stream is compressed (PDF/A wants it readable as is)")
    part, conformance = props.get((_PDFAID_NS, "part")), props.get((_PDFAID_NS, "conformance"))
    if part != PART or conformance != CONFORMANCE:
        problems.append(f"XMP does not identify PDF/A-2b (pdfaid part {part}, conformance {conformance})")
    producer = pdf.docinfo.get("/Producer")
    if (str(producer) if producer is not None else None) != props.get((_PDF_NS, "Producer")):
        problems.append("the producer differs between the information dictionary and XMP")
    title = pdf.docinfo.get("/Title")
    if title is not None and str(title) and str(title) not in xmp.replace("&amp;", "&"):
        problems.append("the document title differs between the information dictionary and XMP")
    return problems


def _intent_problems(pdf: pikepdf.Pdf) -> list[str]:
    intents = pdf.Root.get("/OutputIntents")
    if not isinstance(intents, pikepdf.Array) or not intents:
        return ["no output intent"]
    problems = []
    for intent in intents:
        if intent.get("/S") != pikepdf.Name.GTS_PDFA1:
            continue
        profile = intent.get("/DestOutputProfile")
        if not isinstance(profile, pikepdf.Stream):
            problems.append("the PDF/A output intent has no ICC profile")
            continue
        icc = profile.read_bytes()
        if len(icc) < 128 or icc[36:40] != b"acsp":
            problems.append("the output intent's ICC profile is not an ICC profile")
        elif icc[16:20] != b"RGB " or int(profile.get("/N", 0)) != 3:
            problems.append("the output intent's ICC profile is not an RGB profile")
        elif icc[8] > 4:
            problems.append(f"the output intent's ICC profile is version {icc[8]} (PDF/A-2 takes up to 4)")
        return problems
    return ["no GTS_PDFA1 output intent"]


def _object_problems(obj: pikepdf.Dictionary | pikepdf.Stream, number: int) -> list[str]:
    problems = []
    kind = obj.get("/Type")
    if kind == pikepdf.Name.Font or (obj.get("/Subtype") in _FONT_TYPES and "/BaseFont" in obj):
        problems += _font_problems(obj)
    if obj.get("/S") in (pikepdf.Name.JavaScript, pikepdf.Name.Launch) or "/JS" in obj:
        problems.append(f"object {number}: a JavaScript or launch action")
    filters = obj.get("/Filter")
    if filters is not None and "LZWDecode" in str(filters):
        problems.append(f"object {number}: LZW compression")
    if obj.get("/Interpolate") is True:
        problems.append(f"object {number}: an image asks for interpolation")
    if kind == pikepdf.Name.Annot or obj.get("/Subtype") == pikepdf.Name.Widget:
        flags = int(obj.get("/F", 0))
        if obj.get("/Subtype") != pikepdf.Name.Popup and (not flags & 4 or flags & (1 | 2 | 32 | 256)):
            problems.append(f"object {number}: an annotation that is hidden or does not print")
    return problems


_FONT_TYPES = {pikepdf.Name.Type1, pikepdf.Name.TrueType, pikepdf.Name.MMType1, pikepdf.Name.CIDFontType0,
               pikepdf.Name.CIDFontType2}


def _font_problems(font: pikepdf.Dictionary | pikepdf.Stream) -> list[str]:
    subtype = font.get("/Subtype")
    if subtype in (pikepdf.Name.Type3, pikepdf.Name.Type0):
        return []  # Type 3 glyphs are in the file; a Type 0 font's program is its descendant's (checked there)
    descriptor = font.get("/FontDescriptor")
    if not isinstance(descriptor, pikepdf.Dictionary) or not any(
            key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
        return [f"font {font.get('/BaseFont', '?')} is not embedded"]
    return []
