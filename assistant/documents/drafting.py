"""`knowledge draft`: card skeletons from a stored document, for a curator to finish.

A skeleton has a card's front matter (the source filled in, the rest to complete) and, as
its body, the facts and figures found in the document — sentences with a number — each with
its page or section. It is a draft: the curator rewrites it in the project's own words,
fills stages and needs, moves it to knowledge/cards/ and runs `aiguillage knowledge validate`.
One skeleton per section (HTML, Markdown); a PDF, whose pages have no headings, gets one.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml
from pydantic import BaseModel

from assistant.documents.extraction import Segment
from assistant.documents.store import DocumentRecord, slug
from assistant.text import fold, sentences

MAX_FACTS = 15
_FIGURE = re.compile(
    r"\d|\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze|vingt|trente|cent|"
    r"mille|million|millions|milliard|milliards|moitie|tiers|quart)\b"
)


class Fact(BaseModel):
    text: str  # verbatim from the document
    where: str  # "p. 3" or "§ Qui peut en bénéficier ?"


class CardDraft(BaseModel):
    id: str
    title: str
    facts: list[Fact]
    record: DocumentRecord

    def render(self, today: dt.date | None = None) -> str:
        record = self.record
        cited = f"{record.title} ({', '.join(_citation_bits(record))})".replace(" ()", "")
        source: dict[str, object] = {"title": cited}
        if record.url:
            source |= {"url": record.url, "seen": (today or dt.date.today()).isoformat()}
        places = list(dict.fromkeys(f.where for f in self.facts))
        source["section"] = ", ".join(places)[:200]
        header = {
            "id": self.id,
            "title": self.title,
            "kind": "synthese",
            "stages": [],
            "needs": [],
            "sources": [source],
            "keywords": [],
            "questions": [],
            "updated": (today or dt.date.today()).isoformat(),
        }
        facts = "\n".join(f"- « {f.text} » ({f.where})" for f in self.facts)
        return (
            f"---\n# BROUILLON tiré du document « {record.id} » : à compléter (kind, stages, "
            "needs, keywords, questions),\n# à réécrire avec vos mots, puis à déplacer dans "
            "knowledge/cards/ et à vérifier\n# avec `aiguillage knowledge validate`.\n"
            + yaml.safe_dump(header, allow_unicode=True, sort_keys=False, width=100)
            + "---\n\nÀ COMPLÉTER : la phrase qui répond, écrite avec vos mots.\n\n"
            + "**Faits et chiffres relevés dans le document** (à vérifier) :\n\n"
            + facts
            + "\n"
        )


def _citation_bits(record: DocumentRecord) -> list[str]:
    bits = [record.publisher] if record.publisher else []
    if record.date:
        bits.append(record.date.isoformat())
    return bits


def _where(segment: Segment) -> str:
    if segment.page is not None:
        return f"p. {segment.page}"
    return f"§ {segment.section}" if segment.section else "début du document"


def facts_of(segment: Segment) -> list[Fact]:
    """Sentences of the segment that carry a figure (a number, a share, an amount)."""
    return [
        Fact(text=s, where=_where(segment))
        for s in sentences(segment.text)
        if len(s.split()) >= 5 and _FIGURE.search(fold(s))
    ]


def draft_cards(record: DocumentRecord) -> list[CardDraft]:
    groups: dict[str, list[Segment]] = {}
    for segment in record.segments:
        key = segment.section if record.format != "pdf" and segment.section else record.title
        groups.setdefault(key, []).append(segment)
    drafts: list[CardDraft] = []
    for title, segments in groups.items():
        facts = [fact for segment in segments for fact in facts_of(segment)][:MAX_FACTS]
        if not facts:
            continue
        suffix = "" if title == record.title else f"-{slug(title, 30)}"
        drafts.append(CardDraft(id=f"{record.id}{suffix}", title=title, facts=facts, record=record))
    return drafts


def write_drafts(
    drafts: list[CardDraft], out_dir: Path, overwrite: bool = False
) -> tuple[list[Path], list[Path]]:
    """Write each skeleton as <id>.md; an existing file (a draft being finished) is kept
    unless `overwrite`. Returns (written, kept)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    kept: list[Path] = []
    for draft in drafts:
        path = out_dir / f"{draft.id}.md"
        if path.exists() and not overwrite:
            kept.append(path)
            continue
        path.write_text(draft.render(), encoding="utf-8")
        written.append(path)
    return written, kept
