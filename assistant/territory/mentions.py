"""Finding a territory mentioned inside a free French sentence (:class:`MentionFinder`).

The search is strict, to avoid reading ordinary words as places (France has communes called
Ver, Y, Eu, Plan, Ligné…): a mention counts when it follows a preposition (``à``, ``au``,
``en``, ``sur``, ``vers``, ``dans le`` (``ds le``), ``près de``, ``à côté de``, ``du côté
de``…) or is capitalised; a name that is also a common French word (or has 1–2 letters) must
be capitalised, not at the start of a sentence, and follow a preposition or be part of a longer
name; after ``en`` or ``dans`` a lowercase word only matches départements and regions.
Lowercase exceptions, for people typing on a phone: after ``à`` a commune of at least 50 000
inhabitants counts even when its name is a common word (``"a tours"``, ``"a nice"``), and
after ``dans``/``à`` a département or region whose name is a common word counts unless a
complement follows (``"dans la creuse"``, ``"a la reunion"``, but not ``"à la réunion de
demain"``); a short list of what people write after ``à`` (``à fond``, ``à deux``,
``à domicile``…) never counts. Typos: a lowercase name after a preposition may have one typo
when it has several words (``"a carhaix plougeur"``); a lowercase one-word typo must lead to a
single département, region or town of 10 000+ inhabitants unless it has 8+ letters (``"a la
banque"`` is not Benque); a longer name with one typo beats an ambiguous exact prefix (``"a
clermont ferand"`` is Clermont-Ferrand, not one of the Clermont).

A 5-digit number is read as a postal code unless a unit follows it (``€``, ``euros``,
``habitants``…). A département number needs a cue (``dans le 23``, ``dans le 9-3``,
``département 23``, ``(23)``).

The lenient mode (used by :meth:`TerritoryIndex.resolve`) also accepts lowercase names
without a preposition.
"""

from __future__ import annotations

import re

from assistant.territory.agreement import (
    Mention,
    apart,
    code_after,
    home_before_targets,
    longer_name_near,
    narrow,
    reread_in_area,
    spelt_with_its_accents,
)
from assistant.territory.codes import number_mentions, postal_mentions
from assistant.territory.models import BIG_CITY, BIG_TOWN, MentionClass, Resolution
from assistant.territory.named import in_a_name
from assistant.territory.resolutions import Resolver
from assistant.territory.tables import Tables
from assistant.territory.text import (
    Token,
    continues_a_name,
    ends_a_name,
    hyphenated,
    name_key,
    opens_a_bracket,
    preposition,
    tokenize,
)
from assistant.territory.words import (
    AFTER_A_STOP,
    COMMON_WORDS,
    COMPLEMENT_AFTER,
    DANS_ARTICLES,
    LINK_WORDS,
    NAMED_AFTER,
    NOT_A_TYPO,
    SAINTS,
    is_french_word,
)

__all__ = ["MentionFinder"]

MIN_TYPO_CHARS = 4  # a shorter misspelt word is read as nothing ("a nior" is Niort)


_DENIED_PLACE = re.compile(
    r"\b(pas|non|plus|plutôt que|plutot que)\s+((à|a|au|aux|en|dans|sur|vers|de|du)\s+)?"
    r"(la |le |les |l')?$",
    re.IGNORECASE,
)


class MentionFinder:
    """Scores every possible mention of a place in a message and keeps the most precise."""

    def __init__(self, tables: Tables, resolver: Resolver) -> None:
        self.tables = tables
        self.resolver = resolver

    def find(self, message: str, *, lenient: bool = False) -> Resolution | None:
        """The territory a French sentence mentions, or None. Strict about ordinary words.

        ``lenient`` (used by :meth:`TerritoryIndex.resolve`) also accepts lowercase names without a
        preposition.
        """
        tokens = tokenize(message)
        if not tokens:
            return None
        mentions: list[Mention] = []
        mentions.extend(postal_mentions(self.resolver, message))
        mentions.extend(number_mentions(self.tables, self.resolver, message, lenient))
        mentions.extend(self._name_mentions(message, tokens, lenient))
        for mention in mentions:
            picked = code_after(self.tables, self.resolver, message, mention)
            if picked is not None:
                return picked
        tentative = [m for m in mentions if m.tentative]
        mentions = [m for m in mentions if not m.tentative]
        # "on est pas à Saint-Flour, on est à Murat": a place denied is not the answer
        said = [m for m in mentions if not _DENIED_PLACE.search(message[: m.start])]
        if mentions and not said:  # "REIMS pas Rennes": the first word is the place then
            said = [m for m in tentative if not _DENIED_PLACE.search(message[: m.start])]
        mentions = said or mentions
        if not mentions:
            return None
        mentions = home_before_targets(message, mentions)
        mentions.sort(key=lambda m: (-m.score, m.start))
        best = mentions[0]
        reread = reread_in_area(self.tables, self.resolver, best, mentions[1:])
        if reread is not None:
            return reread
        if best.resolution.kind in ("departement", "region", "postal_code"):
            # "Valence dans la Drôme": a commune inside the named area is more precise
            for other in mentions[1:] + tentative:
                if other.resolution.kind in ("departement", "region", "postal_code"):
                    continue
                narrowed = narrow(other.resolution, [best])
                if narrowed is not None and narrowed.status == "found":
                    return narrowed
                o = other.resolution
                if o.status == "found" and (
                    o.departement == best.resolution.departement
                    or (best.resolution.kind == "region" and o.region == best.resolution.region)
                ):
                    return o
            for other in mentions[1:] + tentative:
                # "Saint-Denis en Bretagne": no candidate there, the commune stays ambiguous
                o = other.resolution
                if (
                    o.status == "ambiguous"
                    and not o.fuzzy  # a misspelt name found nowhere in the area: the area
                    and o.kind is None
                    and other.start < best.start
                    and not re.search(r"[.!?\n]", message[other.start : best.start])
                ):
                    return longer_name_near(self.tables, self.resolver, o, [best]) or o
        if best.resolution.status == "ambiguous" and best.resolution.candidates:
            # a town named in the same sentence places it too ("Châtenois, près de Sélestat")
            beside = [m for m in mentions[1:] if not apart(message, best, m)]
            narrowed = narrow(best.resolution, mentions[1:]) or narrow(
                best.resolution, beside, towns=True
            )
            if narrowed is not None:
                return narrowed
            longer = longer_name_near(self.tables, self.resolver, best.resolution, mentions[1:])
            return (
                longer
                or self._city_of_quarter(best, beside)
                or spelt_with_its_accents(message, best)
                or best.resolution
            )
        return best.resolution

    def _city_of_quarter(self, best: Mention, beside: list[Mention]) -> Resolution | None:
        """ "à Paris, dans le 20e, côté Belleville": after a big city, an ambiguous name with
        no namesake in its département is a quarter of it."""
        for m in beside:
            o = m.resolution
            city = self.tables.communes.get(o.commune_code or "")
            if m.start < best.start and city and not m.toward and city.population >= BIG_CITY:
                return o
        return None

    def _name_mentions(self, message: str, tokens: list[Token], lenient: bool) -> list[Mention]:
        out: list[Mention] = []
        whole = len(tokens) <= self.tables.max_tokens
        i = 0
        n = len(tokens)
        while i < n:
            if i > 0 and tokens[i - 1].norm == "dans" and tokens[i].norm in DANS_ARTICLES:
                # "dans la Creuse" is the département, not the commune La Creuse (70)
                area = self._area_after_article(message, tokens, i + 1, lenient, whole)
                if area is not None:
                    out.append(area[0])
                    i = area[1]
                    continue
            prep, strength = preposition(tokens, i)
            found: Mention | None = None
            if tokens[i].norm in self.tables.first_tokens or prep in ("au", "du", "aux", "des"):
                for j in range(min(n, i + self.tables.max_tokens), i, -1):
                    found = self._try_span(message, tokens, i, j, prep, strength, lenient, whole)
                    if found:
                        longer = self._longer_fuzzy(message, tokens, i, j, found)
                        if longer is not None:
                            found, j = longer
                        if not in_a_name(tokens, i):
                            out.append(found)
                        i = j
                        break
            if found is None:
                fz = self._try_fuzzy(message, tokens, i, prep, strength)
                if fz and not in_a_name(tokens, i):
                    out.append(fz)
                # "Romily sur Seine": the words of a misspelt name, capitalised as a name is,
                # are not places of their own
                skip = fz is not None and tokens[i].capital
                i += 1
                while skip and fz is not None and i < n and tokens[i].start < fz.end:
                    i += 1
        return out

    def _area_after_article(
        self, message: str, tokens: list[Token], i: int, lenient: bool, whole: bool
    ) -> tuple[Mention, int] | None:
        """A département or region name starting at token i (just after "dans le/la/les")."""
        if i >= len(tokens) or tokens[i].norm not in self.tables.first_tokens:
            return None
        prep, strength = preposition(tokens, i)
        for j in range(min(len(tokens), i + self.tables.max_tokens), i, -1):
            key = " ".join(t.norm for t in tokens[i:j])
            if key not in self.tables.dep_names and key not in self.tables.region_names:
                continue
            found = self._try_span(message, tokens, i, j, prep, strength, lenient, whole)
            if found is not None and found.resolution.kind in ("departement", "region"):
                return found, j
        return None

    def _longer_fuzzy(
        self, message: str, tokens: list[Token], i: int, j: int, exact: Mention
    ) -> tuple[Mention, int] | None:
        """ "a clermont ferand": one typo in a longer name beats an ambiguous exact prefix;
        "a lons le saunié" beats Lons, a town of its own, when two more words make the name."""
        ambiguous = exact.resolution.status == "ambiguous"
        start = " ".join(t.norm for t in tokens[i:j]) + " "
        for k in range(j + 1, min(len(tokens), i + 4) + 1):
            if tokens[k - 1].norm in LINK_WORDS and k < len(tokens):
                continue  # "lons le …": a name goes on after its link words
            if not continues_a_name(tokens[j:k]):
                break
            key = " ".join(t.norm for t in tokens[i:k])
            # a long name may carry two typos ("clermont ferant")
            res = self.resolver.fuzzy_resolution(message, key, limit=1 if len(key) < 12 else 2)
            if res is None or res.status != "found":
                continue
            if ambiguous or (k - j >= 2 and name_key(res.matched or "").startswith(start)):
                return Mention(res, exact.score + 0.2 * (k - j), exact.start), k
        return None

    def _try_span(
        self,
        message: str,
        tokens: list[Token],
        i: int,
        j: int,
        prep: str | None,
        strength: int,
        lenient: bool,
        whole: bool,
    ) -> Mention | None:
        span = tokens[i:j]
        key = " ".join(t.norm for t in span)
        keys = [key]
        if prep in ("au", "du"):
            keys.insert(0, "le " + key)
        elif prep in ("aux", "des"):
            keys.insert(0, "les " + key)
        for k in keys:
            klass = self._class_of(k)
            if klass is None:
                continue
            after = [t.norm for t in tokens[j : j + 2] if not t.initial]
            tentative = False
            alone = whole and j - i == len(tokens)
            bracket = opens_a_bracket(message, span)
            own_sentence = span[0].initial and (j == len(tokens) or tokens[j].initial)
            if not (
                hyphenated(message, span) and strength >= 1 and k not in COMMON_WORDS
            ) and not self._accept(
                span, k, klass, prep, strength, lenient, alone, after, bracket, own_sentence
            ):
                if not self._tentative_ok(span, k, klass, strength):
                    continue
                tentative = True
            res = self.resolver.name_resolution(message, k, prep)
            if res is None:
                continue
            if tentative:
                return Mention(res, 0.0, span[0].start, True, k, span[-1].end)
            score = 1.0 + strength + (1.0 if span[0].capital else 0.0) + 0.2 * (j - i)
            if klass == "commune":
                score += 0.5
            weak = strength == 1 and prep in ("de", "d", "du", "des")
            pays = k in self.tables.pays_keys
            return Mention(res, score, span[0].start, False, k, span[-1].end, weak, pays=pays)
        return None

    def _class_of(self, key: str) -> MentionClass | None:
        if key in self.tables.dep_names:
            return "departement"
        if key in self.tables.region_names:
            return "region"
        if key in self.tables.names:
            return "commune"
        return None

    def _accept(
        self,
        span: list[Token],
        key: str,
        klass: MentionClass,
        prep: str | None,
        strength: int,
        lenient: bool,
        alone: bool,
        after: list[str],
        bracketed: bool = False,
        own_sentence: bool = False,
    ) -> bool:
        significant = [t for t in key.split() if t not in LINK_WORDS]
        sig_tokens = [t for t in span if t.norm not in LINK_WORDS] or span
        capital = sig_tokens[0].capital
        saint = len(significant) > 1 and significant[0] in SAINTS
        common = not saint and (
            not significant
            or all(t in COMMON_WORDS or len(t) <= 2 for t in significant)
            or key in COMMON_WORDS
        )
        if common and capital and (not sig_tokens[0].initial or alone or lenient):
            # a capital not explained by the start of a sentence, and some context
            return strength > 0 or len(significant) > 1 or alone or lenient
        if common:
            return self._lowercase_common_ok(key, klass, prep, strength, alone, after, lenient)
        if alone or lenient:
            return True
        if strength >= 2:
            if klass != "commune" or capital:
                return True
            # after "en"/"dans", a lowercase word is a département or region, not a commune;
            # "on en est aux premières réflexions" is no village (Premières, Côte-d'Or)
            return prep not in ("en", "dans") and not (
                is_french_word(key) and self._biggest(key) < BIG_TOWN
            )
        if strength == 1:  # weak: "de", "du", "le"
            # typed in lowercase, a name of several words or a town people know still says
            # where ("l'asso de saint nazaire", "la boutique d'aurillac")
            known = self._biggest(key) >= BIG_TOWN and not is_french_word(key)
            return capital or len(significant) > 1 or known
        # no preposition: a capitalised name, not just the first word of a sentence unless
        # it is long enough not to be a greeting or a first name
        if not capital:
            # typed in lowercase, a département in brackets after a town still says where
            # ("mairie de lalinde (dordogne)"); elsewhere a name may be a word ("cidre,
            # calvados", "plaisir", "s'allier"): it needs a capital or a preposition
            return bracketed and klass == "departement"
        if not sig_tokens[0].initial or len(significant) > 1 or klass != "commune":
            return True
        # "Asso. Troyes. 2 salariés.": a town of its own sentence is no greeting (a small one
        # may be a signature: "Merci. Margaux.")
        return own_sentence and self._biggest(key) >= BIG_TOWN

    @staticmethod
    def _tentative_ok(span: list[Token], key: str, klass: MentionClass, strength: int) -> bool:
        """A capitalised commune opening a sentence, to confirm by a wider area mentioned."""
        return (
            klass == "commune"
            and strength == 0
            and len(span) == 1
            and span[0].capital
            and span[0].initial
            and key not in COMMON_WORDS
            and len(key) > 2
        )

    def _lowercase_common_ok(
        self,
        key: str,
        klass: MentionClass,
        prep: str | None,
        strength: int,
        alone: bool,
        after: list[str],
        lenient: bool,
    ) -> bool:
        """A lowercase name that is also a common word: "a tours", "dans la creuse"."""
        if alone and lenient:
            return True
        if strength < 2:
            return False
        bare = key[3:] if key.startswith(("le ", "la ", "les ")) else key
        bare = bare[2:] if bare.startswith("l ") else bare
        if prep == "a" and (key in AFTER_A_STOP or bare in AFTER_A_STOP):
            return False
        if klass == "commune":
            # a big town after "à" or "sur" ("a tours", "sur nice"), not "à tours de bras"
            if prep not in ("a", "au", "aux", "sur") or after[:2] == ["de", "bras"]:
                return False
            if lenient and self._biggest(key) >= BIG_TOWN:
                return True
            return self._biggest(key) >= BIG_CITY
        # "dans la creuse", "a la reunion", not "à la réunion de demain", "dans la somme de…"
        if after and after[0] in COMPLEMENT_AFTER:
            return False
        return lenient or prep in ("dans", "a")

    def _lowercase_fuzzy_ok(self, res: Resolution, key: str) -> bool:
        """A lowercase typo must lead somewhere definite; a short one ("a la banque" is not
        Benque, "a limoge" is Limoges) only to a département, a region or a town."""
        if res.status != "found":
            return False
        if " " in key or len(key) >= 8 or res.commune_code is None:
            return True
        c = self.tables.communes.get(res.commune_code)
        return c is not None and c.population >= BIG_TOWN

    def _biggest(self, key: str) -> int:
        return max(
            (
                self.tables.communes[e.commune_code].population
                for e in self.tables.names.get(key, [])
            ),
            default=0,
        )

    def _try_fuzzy(
        self, message: str, tokens: list[Token], i: int, prep: str | None, strength: int
    ) -> Mention | None:
        tok = tokens[i]
        if strength < 2 and not (tok.capital and not tok.initial):
            return None
        if (prep in ("en", "dans") and not tok.capital) or prep == "cote":
            return None
        if tok.norm in COMMON_WORDS and tok.norm not in LINK_WORDS | SAINTS:
            return None
        if strength == 0 and i > 0 and tokens[i - 1].norm in NAMED_AFTER:
            return None  # "mon fils Mathis" is no misspelt Athis-Mons
        if prep == "a" and not tok.capital and tok.norm in AFTER_A_STOP:
            return None
        best: Mention | None = None
        for j in range(i + 1, min(len(tokens), i + 4) + 1):
            span = tokens[i:j]
            if j - i > 1 and ends_a_name(message, span[-2], span[-1]):
                break  # "Langre (Haute-Marne)": a name ends at a bracket or a comma
            limit: int | None = None
            if j - i > 1 and not span[-1].capital and not span[0].capital:
                # lowercase after "à", "près de"…: "a carhaix plougeur", one typo at most
                if strength < 2 or not continues_a_name(span[1:]):
                    break
                limit = 1
            key = " ".join(t.norm for t in span)
            if len(key) < MIN_TYPO_CHARS or key in SAINTS:
                continue
            if any(t.norm in NOT_A_TYPO for t in span):
                continue  # "la Région et l'agglo suivent" is not a misspelt "La Réunion"
            if j - i == 1 and not tok.capital and is_french_word(key):
                continue  # "aux premières réflexions": a word spelt right is no typo
            res = self.resolver.fuzzy_resolution(message, key, limit)
            if res is not None and len(key) < 6 and res.commune_code is None:
                continue  # five letters are too few to misspell an area ("l'heure" is not Eure)
            if res is not None and not tok.capital and not self._lowercase_fuzzy_ok(res, key):
                continue
            if res is not None and res.status != "not_found":
                score = 0.5 + strength + (1.0 if tok.capital else 0.0)
                best = Mention(res, score, tok.start, key=key, end=span[-1].end)
        return best
