"""Reports as files: CSV (UTF-8, one header row of machine-friendly column
names with their units, local times as RFC 3339 with the site's offset) and
PDF (reportlab: the header, then the table with its header row repeated on
every page, and "page N of M"). The PDF is set in the STSong-Light CID font,
which every PDF reader has, so Chinese names render without embedding a font."""

from __future__ import annotations

import csv
import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.doctemplate import BaseDocTemplate

from reports.model import Cell, Column, Report

FONT = "STSong-Light"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
PDF_MEDIA_TYPE = "application/pdf"
CELL_SIZE, CELL_LEADING, CELL_PADDING = 6.5, 8.0, 2.0


def csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def render_csv(report: Report) -> bytes:
    """The report's rows under one header row of column keys."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.key for c in report.columns])
    writer.writerows([csv_cell(v) for v in row] for row in report.rows)
    return out.getvalue().encode("utf-8")


def pdf_cell(value: Cell, column: Column) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and column.decimals is not None:
        return f"{value:.{column.decimals}f}"
    return str(value)


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


class _NumberedCanvas(Canvas):
    """Keeps each page until the document ends, then stamps "Page N of M"
    on all of them (reportlab's recipe: the page count is known only then)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]

    def save(self) -> None:
        for state in self._held:
            self.__dict__.update(state)
            self.setFont(FONT, 8)
            self.drawRightString(landscape(A4)[0] - 12 * mm, 8 * mm, f"Page {self.getPageNumber()} of {len(self._held)}")
            super().showPage()
        super().save()


def render_pdf(report: Report) -> bytes:
    """The report as a landscape A4 PDF, "Page N of M" on every page."""
    font = _font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=14, leading=18, spaceAfter=4)
    header_style = ParagraphStyle("header", fontName=font, fontSize=8.5, leading=11)
    cell_style = ParagraphStyle("cell", fontName=font, fontSize=CELL_SIZE, leading=CELL_LEADING)
    head_style = ParagraphStyle("head", parent=cell_style, textColor=colors.white)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=14 * mm, title=f"{report.header.title}, {report.header.period}",
                            author=report.header.generated_by, subject=report.header.facility)
    story: list[Any] = [Paragraph(escape(report.header.title), title_style)]
    story += [Paragraph(escape(line), header_style) for line in report.header.lines()]
    story.append(Spacer(1, 4 * mm))
    columns = report.columns
    total = sum(c.width for c in columns)
    widths = [doc.width * c.width / total for c in columns]

    def cell(text: str, width: float) -> Paragraph | str:
        # Only text too wide for its column is set as a (wrapping, slower) Paragraph.
        fits = pdfmetrics.stringWidth(text, font, CELL_SIZE) <= width - 2 * CELL_PADDING
        return text if fits else Paragraph(escape(text), cell_style)

    data: list[list[Paragraph | str]] = [[Paragraph(escape(c.label), head_style) for c in columns]]
    data += [[cell(pdf_cell(v, c), w) for v, c, w in zip(row, columns, widths, strict=True)] for row in report.rows]
    if not report.rows:
        empty: list[Paragraph | str] = ["No records in this period.", *[""] * (len(columns) - 1)]
        data.append(empty)
    table = LongTable(data, colWidths=widths, repeatRows=1)
    spans = [] if report.rows else [("SPAN", (0, 1), (-1, 1))]
    table.setStyle([*spans,
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#2f4f6f")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f0f3f6")]),
        ("FONTNAME", (0, 1), (-1, -1), font), ("FONTSIZE", (0, 1), (-1, -1), CELL_SIZE),
        ("LEADING", (0, 1), (-1, -1), CELL_LEADING),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING), ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ])
    story.append(table)

    def footer(canvas: Canvas, _: BaseDocTemplate) -> None:
        canvas.setFont(font, 8)
        canvas.drawString(12 * mm, 8 * mm, f"{report.header.title}, {report.header.period}")

    doc.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


RENDERERS = {"csv": (render_csv, CSV_MEDIA_TYPE), "pdf": (render_pdf, PDF_MEDIA_TYPE)}


def render(report: Report, fmt: str) -> tuple[bytes, str]:
    """(the file's bytes, its media type) for format `csv` or `pdf`."""
    renderer, media_type = RENDERERS[fmt]
    return renderer(report), media_type
