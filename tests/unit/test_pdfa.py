"""The PDF/A-2b maker and its structural check (BK-04): a report passes; each essential it breaks is named."""

from __future__ import annotations

import io

import pikepdf
from PIL import ImageCms

from app.forms.render.pdfa import check_pdfa, make_pdfa, srgb_profile
from app.forms.render.report import ReportMeta, Table, Text, render_report


def _report() -> bytes:
    out = io.BytesIO()
    render_report(out, ReportMeta(title="Müller & Øster", site="BSL-01", printed_by="Quinn Müller (qa)",
                                  printed_at="2026-03-04 14:07:12 CET (UTC+01:00)", chain_head="3:abc",
                                  signed=("Quinn Müller (qa), Reviewed, 2026-03-04 14:07:12 CET (UTC+01:00)",),
                                  document="Record BSL-01-000001 version 4"),
                  [Text("Wägung"), Table(["a", "b"], [["1", "2"]])])
    return out.getvalue()


def _changed(data: bytes, change) -> bytes:  # noqa: ANN001 - a function of the open pikepdf.Pdf
    with pikepdf.open(io.BytesIO(data)) as pdf:
        change(pdf)
        out = io.BytesIO()
        pdf.save(out, encryption=getattr(change, "encryption", None))
    return out.getvalue()


def test_a_report_is_pdfa_2b() -> None:
    data = _report()
    assert check_pdfa(data) == []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        meta = pdf.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("2", "B")
        assert meta["dc:title"] == "Müller & Øster"


def test_the_srgb_profile_is_a_version_2_rgb_display_profile() -> None:
    icc = srgb_profile()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))  # lcms reads it
    assert icc[8] == 2 and icc[12:20] == b"mntrRGB " and profile.profile.xcolor_space == "RGB "


def test_each_broken_essential_is_named() -> None:
    data = _report()

    def no_intent(pdf: pikepdf.Pdf) -> None:
        del pdf.Root.OutputIntents

    def javascript(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS="app.alert(1)"))

    def not_pdfa(pdf: pikepdf.Pdf) -> None:
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["pdfaid:part"] = "1"

    def hidden_annotation(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[0, 0, 10, 10], F=2))]))

    def encrypt(pdf: pikepdf.Pdf) -> None:
        pass
    encrypt.encryption = pikepdf.Encryption(owner="o", user="", R=6)  # type: ignore[attr-defined]

    assert "no output intent" in check_pdfa(_changed(data, no_intent))
    assert any("JavaScript" in p for p in check_pdfa(_changed(data, javascript)))
    assert any("does not identify PDF/A-2b" in p for p in check_pdfa(_changed(data, not_pdfa)))
    assert any("hidden or does not print" in p for p in check_pdfa(_changed(data, hidden_annotation)))
    assert any("encrypted" in p for p in check_pdfa(_changed(data, encrypt)))
    assert check_pdfa(b"not a pdf") == ["not a PDF: no %PDF- header"]
