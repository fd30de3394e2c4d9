"""French words for a question written in English (knowledge/answers/english.yaml).

The cards are in French, and the bundled multilingual model brings an English question only
part of the way to them: "Can our donors get a tax break?" is closer to no card than the
threshold allows, and the word index finds nothing. So an English question is searched with
the French words of the cards added after it ("… dons donateurs réduction d'impôt"): the
model reads both languages, the word index and the sentence picking read the French."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant import yamlfile
from assistant.errors import KnowledgeError, describe
from assistant.text import fold, written_in_english

__all__ = ["Glossary", "load_glossary"]


class Glossary(BaseModel):
    """English word or phrase -> the French a card would use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    terms: dict[str, str]

    @cached_property
    def folded_terms(self) -> dict[str, str]:
        return {fold(k): v for k, v in self.terms.items()}

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The listed terms, longest first, as whole words ("tax break" before "tax")."""
        keys = sorted(self.folded_terms, key=len, reverse=True)
        return re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w-])")

    def gloss(self, question: str) -> str:
        """The question, with the French of its English terms after it; a question in French
        (or without any listed term) comes back unchanged."""
        if not self.terms or not written_in_english(question):
            return question
        found = self.pattern.findall(fold(question))
        french = list(dict.fromkeys(self.folded_terms[term] for term in found))
        return f"{question} ({' ; '.join(french)})" if french else question


def load_glossary(path: Path) -> Glossary:
    """The glossary of `path`; an empty one when the file does not exist."""
    if not path.exists():
        return Glossary(terms={})
    try:
        return Glossary.model_validate(yamlfile.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yamlfile.YAMLError, ValidationError) as exc:
        raise KnowledgeError(f"{path}: {describe(exc, 'english')}") from exc
