"""The run report as a Word document (report.docx, python-docx), for a board paper: the same sections,
tables and charts as report.md, built from that Markdown's parse (markdown-it-py tokens) so the two cannot
drift apart. Headings become Word headings, pipe tables Word tables (header row bold), lists Word lists,
code monospace, and each chart (a Markdown image of a file in the run directory) a picture in the
document, not a link; links become their text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.shared import Cm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

#: The width a chart is placed at (the text width of an A4 page with 2 cm margins).
PICTURE_WIDTH = Cm(16.5)
#: The font size of table text, smaller than the body so that wide tables fit.
TABLE_PT = 8
MONOSPACE = "Consolas"


def write_docx(path: Path | str, text: str, images_from: Path | None, title: str) -> Path:
    """Write the Markdown ``text`` (the report) as a Word document at ``path``; images are read from
    ``images_from`` (the run directory; an image not found there is left out, its caption kept). Return
    the path."""
    document = Document()
    document.core_properties.title = title
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(2)
    tokens = MarkdownIt("commonmark", {"html": False}).enable("table").parse(text)
    _Builder(document, images_from).build(tokens)
    path = Path(path)
    document.save(str(path))
    return path


class _Builder:
    """Walks the block tokens of the Markdown, adding each block to the document."""

    def __init__(self, document: DocumentObject, images_from: Path | None) -> None:
        self.document = document
        self.images_from = images_from
        self.lists: list[str] = []  # the styles of the open lists, innermost last

    def build(self, tokens: Sequence[Token]) -> None:
        """Add every block of ``tokens`` to the document, in order."""
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.type == "heading_open":
                level = int(token.tag[1:]) - 1  # h1 is the title (level 0), h2 a section (level 1)
                heading = self.document.add_heading(level=min(level, 9))
                _add_inline(heading, tokens[i + 1].children or [])
                i += 3
                continue
            if token.type in ("bullet_list_open", "ordered_list_open"):
                self.lists.append("List Bullet" if token.type == "bullet_list_open" else "List Number")
            elif token.type in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
            elif token.type == "paragraph_open":
                self._paragraph(tokens[i + 1].children or [])
                i += 3
                continue
            elif token.type == "table_open":
                end = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close")
                self._table(tokens[i : end + 1])
                i = end + 1
                continue
            elif token.type in ("fence", "code_block"):
                paragraph = self.document.add_paragraph()
                run = paragraph.add_run(token.content.rstrip("\n"))
                run.font.name = MONOSPACE
                run.font.size = Pt(9)
            i += 1

    def _paragraph(self, children: list[Token]) -> None:
        """A paragraph: a picture (with its caption) if it is one image alone, else text in the style of
        the list it is in, if any."""
        images = [c for c in children if c.type == "image"]
        if len(images) == 1 and all(c.type == "image" or not c.content.strip() for c in children):
            self._picture(images[0])
            return
        style = self.lists[-1] if self.lists else None
        _add_inline(self.document.add_paragraph(style=style), children)

    def _picture(self, image: Token) -> None:
        """A chart from the run directory at the text's width; left out (a note kept) if it is not there."""
        name = str(image.attrs.get("src", ""))
        path = self.images_from / name if self.images_from is not None and "/" not in name else None
        if path is not None and path.is_file():
            self.document.add_picture(str(path), width=PICTURE_WIDTH)
        else:
            self.document.add_paragraph(f"[chart {name} not found]")

    def _table(self, tokens: Sequence[Token]) -> None:
        """A pipe table: one Word table, its header row bold, each cell's inline text as in the body."""
        rows: list[list[list[Token]]] = []
        for token, following in zip(tokens, tokens[1:]):
            if token.type == "tr_open":
                rows.append([])
            elif token.type in ("th_open", "td_open") and following.type == "inline":
                rows[-1].append(following.children or [])
            elif token.type in ("th_open", "td_open"):
                rows[-1].append([])
        if not rows:
            return
        width = max(len(r) for r in rows)
        table = self.document.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, (row, word_row) in enumerate(zip(rows, table.rows)):
            cells: list[_Cell] = list(word_row.cells)  # once a row: table.cell(r, c) walks the grid each call
            for c, children in enumerate(row):
                paragraph = cells[c].paragraphs[0]
                _add_inline(paragraph, children, size=TABLE_PT, bold=r == 0)
        self.document.add_paragraph()


def _add_inline(paragraph: Paragraph, children: Sequence[Token], size: int | None = None, bold: bool = False) -> None:
    """Inline Markdown as runs: text, **bold**, *italic*, `code` (monospace), line breaks; a link as its
    text; an image in running text as its alt text."""
    strong = emphasis = 0
    for child in children:
        if child.type == "strong_open":
            strong += 1
        elif child.type == "strong_close":
            strong -= 1
        elif child.type == "em_open":
            emphasis += 1
        elif child.type == "em_close":
            emphasis -= 1
        elif child.type in ("text", "code_inline", "image", "softbreak", "hardbreak"):
            text = {"softbreak": " ", "hardbreak": "\n"}.get(child.type, child.content)
            run = paragraph.add_run(text)
            run.bold = bold or strong > 0 or None
            run.italic = emphasis > 0 or None
            if child.type == "code_inline":
                run.font.name = MONOSPACE
            if size is not None:
                run.font.size = Pt(size)
