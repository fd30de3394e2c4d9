"""Quantities people state in words or digits: how many employees, how old the structure is.

"nous employons deux personnes", "une salariée à mi-temps", "que des bénévoles", "depuis 2011",
"ça fait six ans qu'on tourne". Matching is on folded text (assistant.text.normalise).
"""

from __future__ import annotations

import re
from datetime import date

_NUMBER_WORDS = {
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "vingt": 20,
    "trente": 30,
    "quarante": 40,
    "cinquante": 50,
    "cent": 100,
}
_EMPLOYEES = re.compile(
    r"\b(\d{1,4}|" + "|".join(_NUMBER_WORDS) + r")\s+(salarie|salariee|salaries|salariees|"
    r"employe|employes|employee|employees|etp|permanents|permanent|personnes salariees|"
    r"staff|workers)\b"
)
# "8 livreurs salariés", "deux animatrices salariées": a trade between (plural, two or more;
# not "un emploi salarié", "2 non salariés", "3 anciens salariés").
_TRADE_EMPLOYEES = re.compile(
    r"\b(\d{1,4}|"
    + "|".join(w for w in _NUMBER_WORDS if w not in ("un", "une"))
    + r")\s+(?!non\b|anciens\b|anciennes\b|ex\b|futurs\b|futures\b)[a-z]+[sx]\s+"
    # ("quatorze aides à domicile salariées", "deux agents d'entretien salariés")
    r"(?:(?:a|de|d'|en)\s*[a-z]+\s+)?(?:salaries|salariees|permanents|permanentes)\b"
)
# "un entraîneur salarié à temps partiel", "notre coordinatrice salariée": one paid person
# (not "un emploi salarié", "une activité salariée": one's own work).
_ONE_EMPLOYEE = re.compile(
    r"(?<!suis )(?<!etant )(?<!etais )\b(un|une|notre)\s+(?!(?:emploi|poste|travail|statut|"
    r"contrat|job|revenu|activite|ancien|ancienne|ex|futur|future|non|premier|premiere|nouveau|"
    r"nouvelle|femme|homme|maman|papa|jeune|personne|mere|pere)\b)[a-z]+\s+"
    r"(?:salarie|salariee)\b"
)
_APPROX = {"dizaine": 10, "quinzaine": 15, "vingtaine": 20, "trentaine": 30, "cinquantaine": 50}
# "nous employons deux personnes", "on paie 3 postes", "on a embauché une coordinatrice",
# "emploie une trentaine de personnes"
_PAID = re.compile(
    r"\b(?:employons|emploie|emploient|emploi|employe|embauche|embauchons|payons|paie|paye|"
    r"employ|employs|"
    r"salarions|salarie)\s+(?:actuellement\s+|aujourd'hui\s+)?(\d{1,4}|"
    + "|".join(_NUMBER_WORDS)
    + r"|notre|nos|une (?:"
    + "|".join(_APPROX)
    + r") de)\s+(?:personnes?|postes?|salaries?|salariees?|permanents?|"
    r"premier|premiere|1er|1ere|1re|"
    r"[a-z]+(?:eur|euse|rice|ice|ant|ante|iste|ier|iere|eiller|eillere)s?)\b"
    # "on vient d'embaucher notre première salariée": done, unlike "on veut embaucher"
    r"|\b(?:vient|viens|venons|viennent) (?:d'embaucher|d'engager|de recruter)\s+"
    r"(notre|nos|un|une|\d{1,3})\b"
    # volunteers and civic-service volunteers are not paid staff
    r"(?!(?:\s+[a-z]+)?\s+(?:benevoles?|services? civiques?|stagiaires?|volontaires?)\b)"
    # in English: "we employ 3 refugees as cooks"
    r"|\bwe (?:employ|pay) (\d{1,4}) (?!volunteers?\b|interns?\b)[a-z]+\b"
)
# "deux éducateurs sportifs en CDI", "une animatrice à mi-temps": a contract counts people.
_ON_CONTRACT = re.compile(
    r"\b(\d{1,4}|"
    + "|".join(w for w in _NUMBER_WORDS if w not in ("un", "une"))
    + r")(?:\s+[a-z']+){1,2}\s+"
    r"(?:en cdi|en cdd|a mi temps|a temps partiel|a temps plein|en contrats? aides?)\b"
)
# "notre animatrice à trois-quarts temps", "une coordinatrice en CDI": one paid person by role.
_ROLE_ON_CONTRACT = re.compile(
    r"(?<!suis )(?<!etais )(?<!etant )(?<!ai ete )\b(notre|nos|un|une)\s+"
    r"[a-z]+(?:eur|euse|rice|ice|ant|ante|iste|ier|iere|ien|ienne)s?\s+"
    r"(?:a mi temps|a temps partiel|a temps plein|a trois quarts (?:de )?temps|a \d0 ?%|en cdi|"
    r"en cdd|en contrats? aides?|en pec|en cui|en contrat pec|en alternance)\b"
)
# "on a Julie en CDI à temps partiel": someone the structure has, on a contract (not "on a
# besoin en CDI", "on a rien en CDD").
_NAMED_ON_CONTRACT = re.compile(
    r"\b(?:on a|nous avons|il y a|avec) (?!(?:besoin|rien|personne|pas|plus|eu|deja)\b)[a-z]+\s+"
    r"(?:(?:en cdi|en cdd|a mi temps|a temps partiel|a temps plein|en contrat aide|en pec|"
    r"en alternance|en apprentissage)\b\s*)+"
)
# "l'association emploie deux aides à domicile": a verb of employing counts whoever follows
# (not hours, volunteers or interns).
_EMPLOYS = re.compile(
    r"\b(?:employons|emploie|emploient|embauchons|salarions)\s+(?:actuellement\s+|"
    r"aujourd'hui\s+|desormais\s+)?(\d{1,4}|"
    + "|".join(_NUMBER_WORDS)
    + r")\s+(?!(?:benevoles?|services?|stagiaires?|volontaires?|heures?|jours?|mois|ans|fois|"
    r"euros?|methodes?|outils?|machines?)\b)[a-z]+"
)
# "je suis salariée, la seule, les autres sont bénévoles": the speaker is the one paid (not
# "je suis salarié dans une banque", one's own job elsewhere).
_SPEAKER_PAID = re.compile(
    r"\b(?:je suis|j'suis|jsuis) (?:la |le )?(?:seule? )?(salarie|salariee),? "
    r"(?:la seule|le seul|de l'asso\w*|de la structure|de la scop|de la scic|de l'epicerie)\b"
)
_COUNT = r"(\d{1,3}|" + "|".join([*_NUMBER_WORDS, *(f"une {w}" for w in _APPROX)]) + r")"
_MONTHS = "janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
# How long a structure has existed: "depuis 2011", "créée en 2009", "ça fait six ans qu'on
# tourne", "10 ans d'existence", "fondée il y a 12 ans".
_SINCE_YEAR = re.compile(
    r"\b(?:depuis|(?:cree|creee|crees|creees|fonde|fondee|nee|declaree|declare|immatriculee|"
    r"immatricule|lancee|lance|ouverte|ouvert|existe|existons)\s+(?:en|depuis))\s+"
    rf"(?:(?:debut|fin|{_MONTHS})\s+)?((?:19|20)\d\d)\b"
    # "l'entreprise a été reprise par ses salariés en 2011"
    r"|\b(?:reprise|repris|rachetee|rachete)\s+par\s+[a-z' ]{1,30}?\s+en\s+((?:19|20)\d\d)\b"
)
_FOR_YEARS = re.compile(
    r"\b(?:depuis|ca fait|cela fait|voila)\s+(?:plus de\s+|pres de\s+|presque\s+|bientot\s+)?"
    + _COUNT
    + r"\s*(?:de\s+|d')?(?:ans?|annees?)\b"
    + r"|\b"
    + _COUNT
    + r"\s+(?:ans|annees)\s+"
    + r"(?:d'existence|d'activite|qu'on|que nous|que l'association|que la structure)"
    + r"|\b(?:cree|creee|fonde|fondee|monte|montee|lance|lancee|nee|declaree|ouverte?)\b"
    + r"[^.?!]{0,20}"
    + r"\bil y a\s+"
    + _COUNT
    + r"\s+(?:ans|annees)\b"
    # "il y a quinze ans on a créé un atelier relais"
    + r"|\bil y a\s+"
    + _COUNT
    + r"\s+(?:ans|annees),?\s+(?:on a|nous avons|j'ai|ils ont|elles ont|elle a|il a)\s+"
    + r"(?:cree|creee|fonde|fondee|monte|montee|lance|lancee|ouvert|ouverte)\b"
)


# "je suis à Auxerre depuis 2022", "j'habite ici depuis dix ans": a person's years in a
# place, not a structure's age.
_RESIDENCE = re.compile(
    r"\b(je suis|je suis arrivee?|on est|nous sommes|j'habite|on habite|nous habitons|je vis|"
    r"on vit|nous vivons|arrivee?s?) (a|au|aux|dans|ici|en france)\b"
    r"[^,.;!?]{0,35}$"
    r"|\b(j'habite|on habite|nous habitons|je vis|on vit|nous vivons)\b[^,.;!?]{0,35}$"
    r"|\ben france\s*$"
    # "je suis ukrainienne, à Metz depuis 2022": a clause that opens on the place
    r"|\b(je suis|j'habite|je vis|nous sommes|on est)\b[^.;!?]{0,40}[,;]\s*"
    r"(a|au|aux) [a-z' -]{2,30}$"
)


# "le bistrot fermé depuis 2 ans", "au chômage depuis 3 ans": how long something has been
# shut or someone out of work, not a structure's age.
_NOT_RUNNING = re.compile(
    # (a copula first: "la ferme depuis 15 ans" is a farm)
    r"\b(est|sont|etait|etaient|reste|restee|restes|restees) (ferme|fermee|fermes|fermees|vide|"
    r"vides|abandonne\w*|inoccupe\w*|a l'arret|en friche|a vendre)\s*$"
    r"|\b(au chomage|sans emploi|en arret|en recherche d'emploi|a la retraite)\s*$"
    # one's own job, people who know each other: "graphiste salarié depuis 8 ans"
    r"|\b(je suis|j'etais|etant) [a-z ]{0,25}(salarie|salariee)\s*$"
    r"|\b(on se connait|se connaissent|nous nous connaissons)\s*$"
)


# "nous habitons à Duras, Lot-et-Garonne, depuis 2019", "veuve depuis dix ans", "on marche en
# montagne depuis quarante ans": the clause is about a person's life, and it names no structure.
_PERSONAL_LIFE = re.compile(
    r"\b(j'habite|habitons|habitent|habite|je vis|vivons|on vit|installee?s?|arrivee?s?|venue?s?|"
    r"veuf|veuve|mariee?s?|divorcee?s?|en couple|retraitee?s?|a la retraite|je travaille|"
    r"travaillons|on marche|marchons|randonn\w*|amie?s depuis|on se connait)\b"
)
_STRUCTURE_WORD = re.compile(
    r"\b(asso\w*|structure|scop|scic|cooperative|entreprise|societe|collectif|club|compagnie|"
    r"on tourne|tourne|existe\w*|cree\w*|fonde\w*|lance\w*|monte\w*|ouvert\w*|activite)\b"
)
_CLAUSE_START = re.compile(r"[.!?;]")


def _about_a_person(before: str) -> bool:
    """Whether the words before a duration make it a person's (where they live, their life)
    rather than a structure's: a residence or life marker, and no structure named in the
    clause ("j'habite Lyon et notre asso existe depuis 2010" is the association's age)."""
    if _NOT_RUNNING.search(before[-45:]):
        return True
    cut = max((m.end() for m in _CLAUSE_START.finditer(before)), default=0)
    clause = before[cut:]
    if not _PERSONAL_LIFE.search(clause) and not _RESIDENCE.search(before[-45:]):
        return False
    return not _STRUCTURE_WORD.search(clause)


def _of_a_structure(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first duration in the text that is a structure's, not a person's."""
    for match in pattern.finditer(text):
        if not _about_a_person(text[max(0, match.start() - 120) : match.start()]):
            return match
    return None


def structure_age(text: str, today: date | None = None) -> float | None:
    """Years a structure has existed, as the (folded) text says; None when it does not."""
    year = _of_a_structure(_SINCE_YEAR, text)
    if year:
        return float((today or date.today()).year - int(year.group(1) or year.group(2)))
    duration = _of_a_structure(_FOR_YEARS, text)
    if not duration:
        return None
    raw = next(g for g in duration.groups() if g)
    if raw.isdigit():
        return float(raw)
    word = raw.removeprefix("une ")
    return float(_APPROX.get(word) or _NUMBER_WORDS[word])


_NO_EMPLOYEES = re.compile(
    r"\b(aucun|pas de|point de|zero|0|sans) (salarie|salaries|employe|employes)\b"
    r"|\b(n'y a|n'a|n'avons|n'ont|na) plus (de|aucun) (salarie|salaries)\b"
    r"|\b(que des|rien qu'avec des|seulement des|uniquement des) benevoles\b"
    r"|\b(sommes|est|sont) (revenus?|revenues?) au (benevolat|tout benevole)\b"
    r"|\bpas encore de salarie"
)


# "nous avons eu jusqu'à trois salariés", "il y avait deux permanents": staff of the past.
_PAST_STAFF = re.compile(
    r"\b((avons|avez|a|ont|avait|avions|aviez|avaient|ai) eu|il y avait|on avait|nous avions|"
    r"avant on avait|anciennement)\s+(jusqu'a\s+|plus de\s+|pres de\s+)?$"
)


# "il faudrait un salarié pour tenir la caisse", "avec un loyer, un salarié…": staff to come.
_STAFF_TO_COME = re.compile(
    r"\b(faudrait|faut|besoin d'|besoin de|payer|embaucher|recruter|engager|cherche|cherchons|"
    r"aimerait|aimerions|voudrait|voudrions|avec un loyer|un loyer)\b[^.;!?]{0,25}$"
)


_OWN_STAFF = re.compile(r"\b(les|nos|mes|ses|leurs|ces)\s*$")


def _current(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first count of the present in the text (not one the structure once had, nor
    staff it would need)."""
    for match in pattern.finditer(text):
        before = text[max(0, match.start() - 30) : match.start()]
        # (not "payer les 6 salariés", "garder nos 5 salariés": staff one has)
        to_come = _STAFF_TO_COME.search(before) and not _OWN_STAFF.search(before)
        if not _PAST_STAFF.search(before) and not to_come:
            return match
    return None


# Unpaid helpers named beside the staff: "et un service civique", "plus trois bénévoles".
_UNPAID_HELPERS = re.compile(
    r"\b(?:\d{1,3}|"
    + "|".join(_NUMBER_WORDS)
    + r"|des|quelques|une (?:"
    + "|".join(_APPROX)
    + r") de)?\s*"
    r"(?:services? civiques?|benevoles?|stagiaires?|volontaires?)\b"
)
# The ways of counting staff, the most telling first (employees() takes the first that counts).
_COUNTS = (
    _EMPLOYEES,
    _TRADE_EMPLOYEES,
    _PAID,
    _ON_CONTRACT,
    _EMPLOYS,
    _ROLE_ON_CONTRACT,
    _NAMED_ON_CONTRACT,
    _ONE_EMPLOYEE,
    _SPEAKER_PAID,
)
_STAFF_PATTERNS = (*_COUNTS, _UNPAID_HELPERS)
_WORD = re.compile(r"[a-z0-9]{3,}")
# Fewer words than this besides the staff, and a message only says who works there.
STAFF_ONLY_BELOW = 3


def only_staff(text: str, ignored: frozenset[str]) -> bool:
    """The (folded) message says who works in the structure and little else: "on a Nadège,
    notre animatrice à mi-temps, et un service civique" answers "what do you need?" with
    the team, not with a need to recruit. `ignored` are words that carry no meaning."""
    if employees(text) is None:
        return False
    rest = text
    for pattern in _STAFF_PATTERNS:
        rest = pattern.sub(" ", rest)
    meaning = [w for w in _WORD.findall(rest) if w not in ignored]
    return len(meaning) < STAFF_ONLY_BELOW


def employees(text: str) -> int | None:
    """How many people the structure pays, as the (folded) text says; 0 for "que des
    bénévoles"; None when it does not say."""
    if _NO_EMPLOYEES.search(text):
        return 0
    match = next((m for pattern in _COUNTS if (m := _current(pattern, text))), None)
    if not match:
        return None
    if match.re is _NAMED_ON_CONTRACT:
        return 1  # one person, named
    raw = next(g for g in match.groups() if g)
    # "on a embauché notre première coordinatrice", "je suis salariée, la seule"
    if raw in ("notre", "nos", "un", "une", "salarie", "salariee"):
        return 1
    if raw.startswith("une "):  # "une trentaine de"
        return _APPROX[raw.split()[1]]
    return int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
