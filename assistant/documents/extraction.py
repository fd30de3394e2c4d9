"""From a file's bytes to its text, cut into citable segments (PDF pages, HTML or Markdown
sections), with the metadata the file itself declares.

PDF: pypdf (pure Python, BSD; measured against pypdfium2 and pdfminer.six, see the report in
README-documents). HTML: trafilatura, which keeps the main content and drops navigation,
footers and cookie banners. Markdown: split at its headings. The libraries are imported
inside the functions that need them: `aiguillage ask` never loads them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from assistant import yamlfile
from assistant.errors import DocumentError

if TYPE_CHECKING:
    from pypdf import PdfReader

Format = Literal["pdf", "html", "markdown"]

# Less text than this is not a document one can answer from: a scanned PDF, a page of menus.
MIN_WORDS = 25
_MARKDOWN_SUFFIXES = {".md", ".markdown"}
_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


class Segment(BaseModel):
    """One citable part of a document: a PDF page or a section under a heading."""

    page: int | None = None
    section: str | None = None
    text: str  # paragraphs separated by blank lines

    @property
    def words(self) -> int:
        return len(self.text.split())


class Extracted(BaseModel):
    """What a file says about itself, and its text."""

    format: Format
    title: str | None = None
    publisher: str | None = None
    date: dt.date | None = None
    segments: list[Segment]

    @property
    def words(self) -> int:
        return sum(s.words for s in self.segments)


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refused before reading when larger than the limit."""
    if not path.is_file():
        raise DocumentError(f"Fichier introuvable : {path}.")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(
            f"Le fichier {path.name} fait {size / 1_000_000:.1f} Mo, au-delà de la limite de "
            f"{max_bytes / 1_000_000:g} Mo (réglable par AIGUILLAGE_MAX_DOCUMENT_MB)."
        )
    if size == 0:
        raise DocumentError(f"Le fichier {path.name} est vide.")
    return path.read_bytes()


def detect_format(name: str, data: bytes) -> Format:
    """By content first (a PDF says so in its first bytes), then by the file name."""
    suffix = Path(name).suffix.lower()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if suffix == ".pdf":
        raise DocumentError(f"{name} porte l'extension .pdf mais n'est pas un PDF valide.")
    if suffix in _MARKDOWN_SUFFIXES:
        return "markdown"
    head = data[:2048].lower()
    if suffix in _HTML_SUFFIXES or b"<html" in head or b"<!doctype html" in head:
        return "html"
    raise DocumentError(
        f"Format non reconnu pour {name} : les documents acceptés sont PDF, HTML (.html, .htm) "
        "et Markdown (.md)."
    )


def extract(name: str, data: bytes, url: str | None = None) -> Extracted:
    """The text of a PDF, HTML or Markdown file; raises DocumentError when there is none."""
    kind = detect_format(name, data)
    if kind == "pdf":
        extracted = extract_pdf(name, data)
    elif kind == "html":
        extracted = extract_html(name, data, url)
    else:
        extracted = extract_markdown(name, data)
    if extracted.words < MIN_WORDS:
        raise DocumentError(_too_little_text(name, kind, extracted.words))
    return extracted


def _too_little_text(name: str, kind: Format, words: int) -> str:
    if kind == "pdf":
        return (
            f"{name} ne contient pas de texte exploitable ({words} mot(s)) : c'est sans doute "
            "un PDF scanné (des images de pages). Faites-le passer par une reconnaissance de "
            "caractères (OCR), puis ajoutez le PDF obtenu."
        )
    if kind == "html":
        return (
            f"La page {name} n'a pas de contenu principal ({words} mot(s) hors menus, pied de "
            "page et bandeau de cookies) : enregistrez la page de l'article lui-même."
        )
    return f"{name} ne contient presque pas de texte ({words} mot(s))."


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u00ad", "")


# -- PDF -----------------------------------------------------------------------------------
_SENTENCE_END = (".", "!", "?", ":", "»", ";")
_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(r"^(page\s*)?\d{1,4}(\s*/\s*\d{1,4})?$", re.IGNORECASE)


def extract_pdf(name: str, data: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _opens_without_password(reader):
            raise DocumentError(
                f"{name} est un PDF protégé par un mot de passe : enregistrez-en une copie "
                "non protégée, puis ajoutez-la."
            )
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"{name} est un PDF illisible ou endommagé ({exc}).") from exc
    texts = _drop_running_lines([_tidy(p) for p in pages])
    segments = [
        Segment(page=number, text=text)
        for number, raw in enumerate(texts, start=1)
        if (text := _pdf_paragraphs(raw))
    ]
    title = _meta_text(info.title) if info else None
    publisher = _meta_text(info.author) if info else None
    created = info.creation_date if info else None
    return Extracted(
        format="pdf",
        title=title,
        publisher=publisher,
        date=created.date() if isinstance(created, dt.datetime) else None,
        segments=segments,
    )


def _opens_without_password(reader: PdfReader) -> bool:
    """A PDF encrypted with an empty user password (only copying restricted) still opens."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # pypdf raises several types (missing AES backend, bad key): all "no"
        return False


def _meta_text(value: object) -> str | None:
    text = str(value).strip() if value else ""
    return text or None


def _drop_running_lines(pages: list[str]) -> list[str]:
    """Remove running headers and footers (the same line on most pages, page numbers aside)
    and bare page numbers."""

    def shape(line: str) -> str:
        return _DIGITS.sub("#", " ".join(line.split()))

    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({shape(line) for line in page.splitlines() if line.strip()})
    running = {line for line, n in counts.items() if len(pages) >= 3 and n >= 0.6 * len(pages)}
    return [
        "\n".join(
            line
            for line in page.splitlines()
            if shape(line) not in running and not _PAGE_NUMBER.match(line.strip())
        )
        for page in pages
    ]


def _pdf_paragraphs(text: str) -> str:
    """Join a page's wrapped lines into paragraphs; a line that ends a sentence, a blank line
    or a short title-like line ends a paragraph. Words cut by a hyphen at a line end are mended."""
    paragraphs: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if current.endswith("-") and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}".strip()
        # A short line standing alone, capitalised: a heading, not the start of a paragraph.
        short_title = current == line and len(line.split()) <= 8 and line[:1].isupper()
        if line.endswith(_SENTENCE_END) or short_title:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)


# -- HTML ----------------------------------------------------------------------------------
# Page furniture that trafilatura keeps when a page has nothing else (its fallback takes
# whatever text there is): removed first, so that an all-boilerplate page has no text at all.
_FURNITURE_TAGS = ("nav", "footer", "aside", "form", "button", "noscript", "script", "style")
_FURNITURE_ROLES = {"navigation", "contentinfo", "banner", "search", "dialog", "alertdialog"}
_FURNITURE_NAMES = re.compile(
    r"cookie|consent|gdpr|rgpd|tarteaucitron|didomi|axeptio|onetrust|newsletter|breadcrumb|"
    r"navbar|menu|footer|skip-link|social|share|partage",
    re.IGNORECASE,
)


def _without_furniture(data: bytes) -> str:
    from lxml import html as lxml_html
    from trafilatura.utils import decode_file

    # Decoded first (UTF-8, else the declared or guessed charset): lxml alone reads bytes
    # without a <meta charset> as Latin-1.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", decode_file(data))
    try:
        root = lxml_html.fromstring(text)
    except (ValueError, TypeError) as exc:  # lxml's ParserError is a ValueError
        raise DocumentError(f"Page HTML illisible ({exc}).") from exc
    doomed = [
        element
        for element in root.iter()
        if isinstance(element.tag, str)
        and (
            element.tag in _FURNITURE_TAGS
            # A page header, not an article's own header (which holds its title).
            or (
                element.tag == "header"
                and not any(a.tag in ("article", "main") for a in element.iterancestors())
            )
            or element.get("role", "").lower() in _FURNITURE_ROLES
            or _FURNITURE_NAMES.search(f"{element.get('id', '')} {element.get('class', '')}")
        )
        and element.tag not in ("html", "body", "main", "article")
    ]
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()
    return str(lxml_html.tostring(root, encoding="unicode"))


def extract_html(name: str, data: bytes, url: str | None = None) -> Extracted:
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        _without_furniture(data),
        url=url,
        # The date only when the page declares it (meta, structured data): never a guess
        # from a copyright line.
        date_extraction_params={"extensive_search": False, "original_date": True},
        output_format="xml",
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        favor_precision=True,
    )
    if not xml:
        return Extracted(format="html", segments=[])
    root = etree.fromstring(xml.encode("utf-8"))
    segments: list[Segment] = []
    heading: str | None = None
    paragraphs: list[str] = []

    def close() -> None:
        if paragraphs:
            segments.append(Segment(section=heading, text="\n\n".join(paragraphs)))

    main = root.find("main")
    for element in main if main is not None else []:
        text = _tidy(" ".join("".join(element.itertext()).split()))
        if not text:
            continue
        if element.tag == "head":
            close()
            heading, paragraphs = text, []
        elif element.tag == "list":
            paragraphs.extend(
                _tidy(" ".join("".join(item.itertext()).split()))
                for item in element.iter("item")
                if "".join(item.itertext()).strip()
            )
        else:
            paragraphs.append(text)
    close()
    return Extracted(
        format="html",
        title=root.get("title") or None,
        publisher=root.get("sitename") or None,
        date=_iso_date(root.get("date")),
        segments=segments,
    )


def _iso_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


# -- Markdown ------------------------------------------------------------------------------
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def extract_markdown(name: str, data: bytes) -> Extracted:
    try:
        text = _tidy(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{name} n'est pas un texte encodé en UTF-8.") from exc
    header: dict[str, object] = {}
    if text.startswith("---\n"):
        front, sep, rest = text[4:].partition("\n---")
        if sep:
            loaded = yamlfile.safe_load(front) if front.strip() else {}
            header = loaded if isinstance(loaded, dict) else {}
            text = rest.split("\n", 1)[1] if "\n" in rest else ""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    segments: list[Segment] = []
    heading: str | None = None
    title: str | None = _meta_text(header.get("title"))
    lines: list[str] = []

    def close() -> None:
        body = "\n".join(lines).strip()
        if body:
            segments.append(Segment(section=heading, text=re.sub(r"\n\s*\n+", "\n\n", body)))

    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            close()
            heading, lines = _LINK.sub(r"\1", match.group(2)), []
            if title is None and len(match.group(1)) == 1:
                title = heading
            continue
        lines.append(_LINK.sub(r"\1", line))
    close()
    date = header.get("date")
    return Extracted(
        format="markdown",
        title=title,
        publisher=_meta_text(header.get("publisher") or header.get("author")),
        date=date if isinstance(date, dt.date) else _iso_date(str(date) if date else None),
        segments=segments,
    )
