"""Output guards for LLM answers: rules in code, so no prompt (or injected text) can lift them.

What the model writes is checked line by line (`AnswerGuard.feed`, which also serves
streaming) against what it was given:

- a phone number, e-mail, URL or structure name that appears neither in the structure
  directory nor in the retrieved passages removes the sentence that carries it;
- a citation `[n]` (or `[card-id]`) that points to no retrieved passage is dropped; valid
  ones are renumbered 1..k in order of first appearance, to match the returned sources;
- a line that states something (a figure, or a full sentence) without any valid citation,
  an answer left with no valid citation, or one that lost more sentences than it kept,
  falls back as a whole: the caller then uses the deterministic composer.

The checks only ever remove text; they never add any.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from assistant.orientation.directory import Structure
from assistant.text import fold

_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)33[\s.-]?(?:\(0\)[\s.-]?)?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)"
    r"|(?<![\w+])\+\d{2,3}(?:[\s.-]?\d{1,4}){3,6}(?!\d)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>()\[\]\"'«»]+"
    r"|\b(?:[a-z0-9-]+\.)+(?:fr|com|org|net|eu|coop|info|io|bzh|re|paris|asso\.fr)\b"
    r"(?:/[^\s<>()\[\]\"'«»]*)?",
    re.IGNORECASE,
)
# A capitalised organisation noun followed by capitalised words: "Incubateur Solidaire du
# Limousin", "Fondation Machin". Generic mentions ("un incubateur de la région") do not match.
_ORG_HEADS = (
    "Incubateur|Incubateurs|Association|Fondation|Coopérative|Cooperative|Réseau|Reseau|"
    "Fabrique|Fabriques|Pépinière|Pepiniere|Couveuse|Maison|Agence|Pôle|Pole|Fonds|Banque|"
    "Chambre|Collectif|Plateforme|Centre|Institut|Fédération|Federation|Union|Cabinet|"
    "Société|Societe|Groupement|Comité|Comite|Mission|Accélérateur|Accelerateur|Club|Cité|"
    "Espace|Ruche|Atelier|Ateliers|Initiative|France|Programme"
)
_CAPITALISED = r"[A-ZÉÈÊÀÂÎÔÛÇ0-9][\w’'&-]*"
_CONNECTOR = r"(?:de|du|des|d'|d’|la|le|l'|l’|les|pour|en|et|à|au|aux|sur)"
_ORG_NAME = re.compile(rf"\b(?:{_ORG_HEADS})(?:\s+(?:{_CONNECTOR}\s*)*{_CAPITALISED})+")
_ACRONYM = re.compile(r"\b[A-ZÉÈ][A-ZÉÈ0-9&]{1,5}\b")
# All-capitals words that name a notion or a legal form, not an organisation.
GENERIC_ACRONYMS = frozenset(
    [
        "ESS",
        "ESUS",
        "SIRET",
        "SIREN",
        "TVA",
        "RH",
        "PME",
        "TPE",
        "ETI",
        "SA",
        "SAS",
        "SASU",
        "SARL",
        "EURL",
        "SCOP",
        "SCIC",
        "CAE",
        "EI",
        "EIRL",
        "ETP",
        "CDI",
        "CDD",
        "RSA",
        "QPV",
        "ZRR",
        "IAE",
        "SIAE",
        "ACI",
        "ETTI",
        "GEIQ",
        "EA",
        "PTCE",
        "DLA",
        "CRESS",
        "OK",
        "NB",
        "PS",
        "PDF",
        "FAQ",
        "UE",
        "EU",
        "FR",
        "HT",
        "TTC",
        "RGPD",
        "CA",
        "BFR",
        "ROI",
        "KPI",
        "OUI",
        "NON",
        "CV",
        "API",
        "URL",
        "PIB",
        "SMIC",
        "RIB",
        "JEP",
        "CPO",
        "CFE",
    ]
)
_CITATION = re.compile(r"\[([^\[\]\n]{1,80})\]")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
_CITE_WORD = re.compile(r"^(?:passage|source|fiche|ref|réf)\.?\s*(\d+)$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[^\s\[])")
_SOURCES_HEADING = re.compile(
    r"^\W*(sources?|références|references|refs?)\W*$|^\W*(sources?|références)\s*:", re.I
)
# Lines that state nothing a source must back: a hedge, an invitation to ask a person.
_NOT_A_CLAIM = re.compile(
    r"n'h[ée]sitez pas|je vous (conseille|recommande|invite|sugg[èe]re)|pour aller plus loin|"
    r"ne (le )?(disent|pr[ée]cisent|mentionnent|indiquent) pas|je n'ai pas (trouv[ée]|d'info)|"
    r"pas d'information|rapprochez-vous|adressez-vous|contactez|voici ce que|en r[ée]sum[ée]\s*:",
    re.IGNORECASE,
)
CLAIM_MIN_WORDS = 8


def _phone_key(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def _url_key(text: str) -> str:
    key = text.lower().strip().rstrip(".,;:!?)»")
    key = re.sub(r"^https?://", "", key)
    key = re.sub(r"^www\.", "", key)
    return key.rstrip("/")


def _name_key(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text.replace("’", "'"))).strip()


@dataclass(frozen=True)
class Grounding:
    """What the model may mention: the directory (fixed) plus this answer's passages."""

    phones: frozenset[str]
    emails: frozenset[str]
    urls: frozenset[str]
    names: tuple[str, ...]  # directory names and carriers, folded
    text: str  # everything the model was shown or may quote, folded
    passages: tuple[str, ...] = ()  # card ids of the numbered passages, 1-based by position

    @classmethod
    def from_directory(cls, structures: Iterable[Structure]) -> Grounding:
        texts: list[str] = []
        names: list[str] = []
        for s in structures:
            names.extend(n for n in (s.name, s.carrier) if n)
            contact = s.contact
            texts.extend(
                t
                for t in (
                    s.name,
                    s.carrier,
                    s.description,
                    s.how_to_reach,
                    contact.website,
                    contact.email,
                    contact.phone,
                    contact.address,
                )
                if t
            )
            texts.extend(src.title for src in s.sources if src.title)
            texts.extend(src.url for src in s.sources if src.url)
        return cls._of(texts, tuple(_name_key(n) for n in names), ())

    def with_passages(self, passages: Sequence[tuple[str, str]]) -> Grounding:
        """Add the numbered passages, as (card id, text shown to the model)."""
        shown = Grounding._of([text for _, text in passages], (), ())
        return Grounding(
            phones=self.phones | shown.phones,
            emails=self.emails | shown.emails,
            urls=self.urls | shown.urls,
            names=self.names,
            text=f"{self.text}\n{shown.text}",
            passages=tuple(card_id for card_id, _ in passages),
        )

    @staticmethod
    def _of(texts: Sequence[str], names: tuple[str, ...], passages: tuple[str, ...]) -> Grounding:
        raw = "\n".join(texts)
        emails = {e.lower() for e in _EMAIL.findall(raw)}
        return Grounding(
            phones=frozenset(_phone_key(p) for p in _PHONE.findall(raw)),
            emails=frozenset(emails),
            urls=frozenset(_url_key(u) for u in _URL.findall(_EMAIL.sub(" ", raw))),
            names=names,
            text=_name_key(raw),
            passages=passages,
        )

    # -- what is allowed --------------------------------------------------------------------
    def allows_url(self, url: str) -> bool:
        key = _url_key(url)
        return any(a == key or a.startswith(key + "/") for a in self.urls)

    def allows_name(self, name: str) -> bool:
        key = _name_key(name)
        if key in self.text:
            return True
        return any(fuzz.partial_ratio(key, n) >= 92 for n in self.names if len(n) >= len(key) - 2)

    def violations(self, sentence: str) -> list[str]:
        """The kinds of ungrounded details in one sentence: phone, email, url, structure."""
        found: list[str] = []
        emails = _EMAIL.findall(sentence)
        if any(e.lower() not in self.emails for e in emails):
            found.append("email")
        rest = _EMAIL.sub(" ", sentence)
        if any(not self.allows_url(u) for u in _URL.findall(rest)):
            found.append("url")
        rest = _URL.sub(" ", rest)
        if any(_phone_key(p) not in self.phones for p in _PHONE.findall(rest)):
            found.append("phone")
        names = _ORG_NAME.findall(rest)
        acronyms = [a for a in _ACRONYM.findall(rest) if a not in GENERIC_ACRONYMS]
        if any(not self.allows_name(n) for n in names) or any(
            not re.search(rf"(?<![a-z0-9]){re.escape(fold(a))}(?![a-z0-9])", self.text)
            for a in acronyms
        ):
            found.append("structure")
        return found


@dataclass
class GuardReport:
    """The guarded text and what the guard did (reason codes only, never text)."""

    text: str
    cited: list[int]  # passage numbers (1-based), in order of first citation
    removed: list[str] = field(default_factory=list)  # kinds removed: phone, url, citation…
    fallback: str | None = None  # why the whole answer must be replaced, if it must


class AnswerGuard:
    """Checks an answer as it arrives, one complete line at a time (streaming-friendly)."""

    def __init__(self, grounding: Grounding) -> None:
        self.grounding = grounding
        self.cited: list[int] = []
        self.removed: list[str] = []
        self.fallback: str | None = None
        self.kept_sentences = 0
        self.dropped_sentences = 0
        self._buffer = ""
        self._lines: list[str] = []
        self._done = False  # the model started its own "Sources" list: ignore the rest

    def feed(self, piece: str) -> list[str]:
        """Add model output; returns the lines that are complete and passed the guard."""
        self._buffer += piece
        released: list[str] = []
        while "\n" in self._buffer and self.fallback is None:
            line, self._buffer = self._buffer.split("\n", 1)
            checked = self._line(line)
            if checked is not None:
                released.append(checked)
        return released

    def finish(self) -> GuardReport:
        """Flush the last line and decide: keep the guarded text, or fall back."""
        if self.fallback is None and self._buffer:
            self._line(self._buffer)
            self._buffer = ""
        text = "\n".join(self._lines).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
        if self.fallback is None:
            if not text:
                self.fallback = "empty"
            elif not self.cited:
                self.fallback = "no_valid_citation"
            elif self.dropped_sentences > self.kept_sentences:
                self.fallback = "invented_details"
        return GuardReport(
            text=text, cited=list(self.cited), removed=list(self.removed), fallback=self.fallback
        )

    # -- one line -----------------------------------------------------------------------
    def _line(self, line: str) -> str | None:
        if self._done or self.fallback is not None:
            return None
        if _SOURCES_HEADING.match(line.strip()):
            self._done = True
            return None
        if not line.strip():
            if self._lines and self._lines[-1] != "":
                self._lines.append("")
                return ""
            return None
        kept: list[str] = []
        for sentence in _SENTENCE_END.split(line.strip()):
            problems = self.grounding.violations(_CITATION.sub(" ", sentence))
            if problems:
                self.removed.extend(problems)
                self.dropped_sentences += 1
                continue
            kept.append(sentence)
            self.kept_sentences += 1
        if not kept:
            return None
        text, cited_here = self._citations(" ".join(kept))
        plain = _CITATION.sub(" ", text)
        is_claim = (
            len(plain.split()) >= CLAIM_MIN_WORDS or bool(re.search(r"\d", plain))
        ) and not (plain.rstrip().endswith("?") or _NOT_A_CLAIM.search(plain))
        if is_claim and not cited_here:
            self.fallback = "uncited_claim"
            return None
        self._lines.append(text)
        return text

    def _citations(self, text: str) -> tuple[str, bool]:
        """Drop citations to nothing, renumber the others; (text, has a valid citation)."""
        found = False
        passages = self.grounding.passages

        def replace(match: re.Match[str]) -> str:
            nonlocal found
            parts = [p.strip() for p in re.split(r"[,;]|\bet\b", match.group(1))]
            numbers: list[int] = []
            looks_cited = False
            for part in parts:
                word = _CITE_WORD.match(part)
                if word:
                    part = word.group(1)
                if part.isdigit():
                    looks_cited = True
                    n = int(part)
                    if 1 <= n <= len(passages):
                        numbers.append(n)
                elif _SLUG.match(part):
                    looks_cited = True
                    if part in passages:
                        numbers.append(passages.index(part) + 1)
            if not looks_cited:
                return match.group(0)  # "[sic]", a Markdown link text: not a citation
            if len(numbers) < len(parts):
                self.removed.append("citation")
            if not numbers:
                return ""
            found = True
            shown = []
            for n in dict.fromkeys(numbers):
                if n not in self.cited:
                    self.cited.append(n)
                shown.append(str(self.cited.index(n) + 1))
            return "[" + ", ".join(shown) + "]"

        cleaned = _CITATION.sub(replace, text)
        cleaned = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
        return cleaned, found


def guard_answer(text: str, grounding: Grounding) -> GuardReport:
    """Run every guard over a complete answer."""
    guard = AnswerGuard(grounding)
    guard.feed(text)
    return guard.finish()
