"""What a message tells of the project, apart from what it asks.

"on est 5 potes, pas encore d'asso. il faut quoi comme statut ?" tells of a group and asks
about forms: the stage and the profile are read in what is told only (extraction.py, and the
semantic layer for a message that ends with a question).
"""

from __future__ import annotations

import re

__all__ = ["QUESTION_START", "described", "needs_said", "without_own_role"]

QUESTION_START = re.compile(
    r"^(c'est quoi|c est quoi|qu'est ce|quest ce|qu est ce|comment|pourquoi|combien|quel|quelle|"
    r"quels|quelles|est ce que|est ce qu|ou trouver|ou puis je|qui peut|qui est|qui sont|"
    r"existe t il|y a t il|a quoi sert|a quoi servent|peut on|puis je|dois je|faut il|"
    r"ca sert a quoi|c'est qui|que fait|que font|on peut|je peux|explique|expliquez|"
    r"dites moi|dis moi|parle moi|parlez moi|definition)\b"
)


# Sentence ends: "?" in "(SAS ?)" asks nothing of its own.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


# A clause where the person speaks of themselves ("je veux monter…", "on est 3 familles…").
_SELF = re.compile(r"\b(je|j'|on|nous|notre|nos|mon|ma|mes|moi)\b")
_SELF_CLAUSE_WORDS = 5


_LIST_OPENING = re.compile(r"\s*:\s*\S+(?:\s+\S+){0,2}\s*$")


def _told_before_asking(sentence: str) -> list[str]:
    """The clauses before the question in a sentence that ends with one, when the person
    speaks of themselves in them: "jveux me lancer dans la permaculture, y a des formations ?"
    tells a wish; "une asso, ça peut embaucher ?" asks about associations."""
    # "on connaît pas les règles : association, entreprise, coopérative, quoi est mieux ?":
    # the options that open the list after a colon are asked about, not told.
    clauses = [_LIST_OPENING.sub("", c).strip() for c in sentence.split(",")][:-1]
    return [
        c
        for c in clauses
        if len(c.split()) >= _SELF_CLAUSE_WORDS and _SELF.search(c) and not QUESTION_START.search(c)
    ]


def described(text: str) -> str:
    """The sentences that describe the project, without those that ask something: "on est
    5 potes, pas encore d'asso. il faut quoi comme statut ?" describes a group."""
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if QUESTION_START.search(sentence.strip(" ,")):
            continue
        if sentence.rstrip().endswith("?"):
            kept.extend(_told_before_asking(sentence))
        else:
            kept.append(sentence)
    return " ".join(s.strip() for s in kept).strip()


# A question about what a kind of structure may do, or what a word means, asks for knowledge:
# "une association peut-elle vendre ?" is not a commercial need (a how-to is: "comment
# trouver un local ?").
_GENERAL_SUBJECT = re.compile(
    r"\b(une|un|les|l'|qu'une|qu'un|d'une|d'un)\s?(association|asso|assos|associations|scop|scic|"
    r"cae|cooperative|cooperatives|entreprise|entreprises|structure|structures|sas|sarl|"
    r"fondation|mutuelle|benevole|benevoles|mineur|mineurs)\b",
    re.IGNORECASE,
)
_MAY = re.compile(
    r"\b(peut|peuvent|pourrait|le droit|doit|doivent|t elle|t il|est elle|est il|sont elles|"
    r"faut il|oblige|obligee|obligatoire|autorise|autorisee|interdit)\b",
    re.IGNORECASE,
)
_DEFINITION = re.compile(
    r"^(c'est quoi|c est quoi|qu'est ce|quest ce|qu est ce|definition|explique|expliquez|"
    r"quelle difference|quelle est la difference|la diff)\b",
    re.IGNORECASE,
)


def needs_said(text: str) -> str:
    """The message without its general questions, where needs are read: "on monte un
    atelier vélo. une association peut-elle vendre ?" says no commercial need."""
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        asks = sentence.rstrip().endswith("?") or QUESTION_START.search(sentence.strip(" ,"))
        general = _DEFINITION.search(sentence.strip(" ,")) or (
            _GENERAL_SUBJECT.search(sentence) and _MAY.search(sentence)
        )
        if asks and general and not _SELF.search(sentence):
            continue
        kept.append(sentence)
    return " ".join(s.strip() for s in kept).strip()


# The speaker's office in the structure: "je suis présidente d'une association de jardins".
_OWN_ROLE = re.compile(
    r"\b(je suis|jsuis|j'suis|suis)\s+(?:la |le |l')?(?:co ?)?(?:presidente?|tresoriere?|"
    r"secretaire|vice presidente?)\b"
)


def without_own_role(text: str) -> str:
    """The message with the speaker's office left out, for the needs classifier: being the
    president says who speaks, not that the governance needs help (taught on stories where
    presidents mostly speak of handing over, the classifier would read it)."""
    return _OWN_ROLE.sub(r"\1", text)
