"""A structure planned or one that exists, and who speaks when it is only planned.

"on veut créer une asso" is a plan: the association to come is not who writes today (a group,
or one person). "on vient de créer une asso", "notre asso", "les statuts sont déposés" say a
structure exists. Matching is on folded text (assistant.text.normalise).
"""

from __future__ import annotations

import re

__all__ = [
    "FORM_NAMED",
    "GROWS_BY_PURCHASE",
    "NEW_VENTURE",
    "NO_STRUCTURE",
    "OURS",
    "SPEAKER_WEIGHT",
    "founders_speak",
    "present",
    "says_it_exists",
    "speaker_of_plan",
]

SPEAKER_WEIGHT = 1.0  # who plans it, when the form is only planned
# The object of a creation verb names the structure to come, not the one that speaks.
_FUTURE_OBJECT = re.compile(
    r"\b(creer|cree|creons|creent|monter|monte|montons|lancer|lancons|fonder|fondons|"
    r"constituer|constituons|transformer en|passer en|faire|ouvrir|"
    r"statuts d(?=')|statuts de|creation d(?=')|creation de|choisir entre|"
    r"(?:hesite|hesitons|hesitent|hesitais) (?:encore |toujours )?entre|reprendre|racheter|"
    # an idea, not a structure: "mes élèves ont une idée : une association pour…"
    r"idee :|"
    # not done yet: "on a pas encore fait l'asso"
    r"(?<=pas )fait|(?<=encore )fait|(?<=pas )monte|(?<=encore )monte|"
    # an option or a question about a form, not the form one has: "savoir si on fait une
    # asso ou autre chose", "apprendre comment on gère une association"
    r"si (?:on|je|nous) (?:fait|fais|faisons|monte|cree|prend|prends)|"
    # "on sait pas si faut une scic ou une cae", "on sait pas si asso ou scic c mieux"
    r"si (?:il )?faut|(?<=pas )si|(?<=savoir )si|"
    r"comment (?:on )?(?:gere|gerer|fonctionne|marche)|"
    # "comprendre comment on fait une asso"
    r"comment (?:on |je |nous )?(?:fait|fais|faisons|faire|monte|monter|cree|creer)|"
    # learning how a form works ("les former à la gestion d'une coopérative"), not "la
    # gestion de la SARL me prend tout mon temps" (one's own)
    r"(?:apprendre|savoir|comprendre|former a|formation a|formes a|connaitre) "
    r"(?:la gestion|le fonctionnement) (?:d(?=')|de)|"
    r"(?:former|formation|formes|formees?) (?:au fonctionnement|a la gestion) (?:d(?=')|de)|"
    r"assemblee constitutive de|ag constitutive de|"
    r"sous forme d'?|sous forme de|devenir|devenant|"
    # an option: "je pourrais leur apprendre à coudre, peut-être avec une association"
    r"peut etre avec|peut etre en|peut etre dans|peut etre par|peut etre via|"
    r"peut etre sous forme d'?)"
    # Who creates is said now ("elle crée seule une entreprise"): only the object is planned.
    r"( seule?s?| ensemble| a plusieurs| a deux| a trois)?"
    # (the object, not the next clause: "la reprendre et en faire une entreprise d'insertion")
    r"(?P<object>(?! (et|mais|ou|puis)\b)( une| un| 1| notre| mon| ma| en| l'|'une|'un)?"
    r"( [a-z0-9']+){1,3}?"
    # the other option planned: "faire une CUMA ou une coopérative"
    r"(( ou( bien)?( une| un| en)?( [a-z0-9']+){1,2})|( [a-z0-9']+){0,2}))"
)
# A structure named as such ("une Scop", "notre asso"), not an adjective ("café associatif").
FORM_NAMED = re.compile(
    r"\b(?:(?:une?|notre|nos|la|ma|mon|leur)\s+|l')(scop|scic|association|asso|cooperative|"
    r"sas|sarl|eurl|sasu|entreprise|structure d'insertion|chantier d'insertion|cae)\b"
)
# Who plans the structure: several people ("on", "nous", "avec trois collègues") or one.
_GROUP_SPEAKS = re.compile(
    r"\b(on|nous|avec (mon|ma|mes|un|une|des|deux|trois|quatre|cinq|six|sept|huit|\d+|"
    r"plusieurs|quelques|d'autres)|"
    # written for others: "cinq de mes élèves ont une idée", "ils en parlent entre eux"
    r"(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|\d+|plusieurs|quelques) (de mes|de nos)|"
    r"entre eux|entre elles)\b"
)
_FORM_WORD = re.compile(
    r"\b(scop|scic|association|asso|cooperative|sas|sarl|eurl|sasu|entreprise|cae|"
    r"mutuelle|fondation|societe)\b(?! d'insertion| adaptee)"
)
# "notre asso", "les statuts de notre association", "notre recyclerie emploie six personnes":
# a structure of one's own exists, whatever it plans to become.
OURS = re.compile(
    r"\b(notre|nos|mon|ma) (structure|association|asso|entreprise|societe|boite|cooperative|"
    r"scop|scic|sas|sarl|recyclerie|ressourcerie|atelier|epicerie|magasin|boutique|restaurant|"
    r"cafe|ferme|salaries|salariees|equipe|conseil d'administration|bureau)\b"
)
_DONE = re.compile(
    r"(vient de|viens de|vien de|venons de|venez de|viennent de|\bon a|j'ai|avons|ont)\s*$"
)
# Said outright: no structure yet, whatever the project's form will be.
NO_STRUCTURE = re.compile(
    r"\b(aucune structure|pas (encore )?de structure|rien (n'est )?(encore )?cree|"
    r"(juste|qu'|encore) une idee|"
    r"pas encore (declares?|declarees?|immatricule\w*|cree\w*))\b"
)
# The structure is registered: what was "being created" exists now. Past forms only: "on
# immatricule le mois prochain" is still a plan.
_REGISTERED = re.compile(
    r"\b(kbis (est )?(arrive|recu|obtenu)|siret (recu|obtenu)|"
    r"(est|suis|sommes|sont|ete|deja) immatricule\w*|immatricule\w* depuis|"
    r"statuts (sont )?deposes|(on a|nous avons|j'ai|ils ont) (depose|deposer|deposes) les statuts|"
    r"existe deja|existe depuis|est declaree|sommes declares|on est declares|"
    r"parue? au journal officiel|(recu|obtenu) (le|notre) recepisse|recepisse (de la prefecture|"
    r"est arrive|recu)|(l'association|l'asso) existe(?! pas)(?! plus)|"
    r"declaration (en prefecture )?(est )?(partie|envoyee|faite))\b"
)
# "je l'ai déjà créée", "l'asso est déjà créée" (not "on a déjà lancé une cagnotte").
_ALREADY_CREATED = re.compile(
    r"\b((l'ai|l'a|l'avons|l'ont) deja (cree|creee|monte|montee|lance|lancee|declaree?)|"
    r"(est|sont) deja (cree|creee|crees|creees|declaree?s?)|"
    # "avec deux amis il vient de créer une petite SAS"
    r"(vient|viennent|venons|viens) de (creer|monter|fonder|immatriculer|declarer) "
    r"(une |un |notre |nos |leur |sa |son |ma |mon |l')(petite |petit )?(asso|association|scop|"
    r"scic|sas|sarl|eurl|sasu|entreprise|micro entreprise|cooperative|societe|structure|boite))\b"
)
# Something new to open, launch or take over ("on voudrait ouvrir une légumerie", "nous
# voulons racheter un concurrent", "on ouvre une activité laverie"): said by a structure that
# exists, it is growth, not a first idea. Not a file, a job or a page ("monter un dossier",
# "créer un poste", "refaire le site") nor the presidency.
_NEW_VERB = (
    r"(creer|monter|lancer|ouvrir|ajouter|developper|deployer|etendre|racheter|reprendre|doubler|"
    r"agrandir|essaimer|dupliquer|diversifier|installer|implanter|proposer|construire|amenager|"
    # a new market or public: "répondre aux grands marchés", "se mettre à vendre en ligne"
    r"elargir|intervenir|aller chercher|se mettre a|repondre aux|repondre a des|faire groupement)"
)
_NEW_OBJECT_NOT = (
    r"(?! (un |une |le |la |les |des |du |notre |nos )?(dossier|poste|emploi|compte|page|"
    r"site internet|site web|presidence|bureau|flambeau|main|lien|liens)\b"
    # "je voudrais proposer à la gérance de…": a suggestion to someone, not an offer
    r"|(?<=proposer) (a|au) (la |le |l')?(gerance|direction|bureau|ca|conseil|president\w*|"
    r"equipe|mairie|salaries)\b)"
)
# Buying another business to grow ("racheter une petite imprimerie à Autun pour
# s'agrandir"): for a structure that already runs, growth, not a takeover that creates one
# (unlike "reprendre l'entreprise de notre patron en Scop").
GROWS_BY_PURCHASE = re.compile(
    r"\b(racheter|reprendre|rachat|reprise)\b[^.?!]{0,60}\bpour (s'agrandir|grandir|"
    r"se developper|nous agrandir|nous developper|s'etendre)\b"
)
NEW_VENTURE = re.compile(
    # (not "personne veut reprendre", "aucun des associés ne veut reprendre": nobody wishes it)
    r"\b(?<!personne )(?<!\bne )(?<!n')"
    r"((veut|veux|voulons|voudrait|voudrions|voudrais|souhaite|souhaitons|souhaiterait|"
    r"souhaiterions|aimerait|aimerions|aimerais|envisage|envisageons|envisagent|prevoit|"
    r"prevoyons|comptons|allons|projet de|idee de|envie de|pensons a|reflechissons a|"
    r"travaille a|travaillons a)\s+((?!pas\b|plus\b|jamais\b)[a-z']+,?\s+){0,2}?"
    + _NEW_VERB
    + _NEW_OBJECT_NOT
    # an answer that is only the plan: "ouvrir à Nîmes"
    + r"|^(ouvrir|creer|lancer|s'implanter|s'installer|s'etendre|essaimer) (a|au|aux|en|dans|sur)\b"
    # asked by others: "trois communes nous ont demandé d'ouvrir une séance chez elles"
    + r"|\b(demande|demandent|demandee|proposent|propose) (de |d')"
    + _NEW_VERB
    + _NEW_OBJECT_NOT
    + r"|\b(on|nous) (ouvre|ouvrons|lance|lancons|cree|creons|ajoute|ajoutons|double|doublons|"
    r"developpe|developpons|deploie|deployons|rachete|rachetons)\b"
    + _NEW_OBJECT_NOT
    + r"|\b(nouvelle activite|nouveau service|nouveau site|nouvelle antenne|deuxieme site|"
    r"second site|deuxieme boutique|deuxieme lieu|deuxieme centre|deuxieme antenne|"
    r"changer d'echelle|changement d'echelle|aller plus loin|passer a l'echelle|essaimer|"
    r"quelque chose de plus grand|faire plus grand|voir plus grand|"
    r"nouvelle offre|nouveaux publics|nouveau public|nouveaux marches|grands marches|"
    r"essaimage|(want|would like)( to)? (open|create|launch|start|expand)))"
    # a second of something it has ("une 2e boutique", "un deuxième camion", "une seconde
    # pirogue"), a new market ("vendre à l'export"), more staff ("embaucher 10 personnes de plus")
    r"|\b(deuxieme|2e|2eme|troisieme|3e|3eme|second|seconde) (petit |petite |grand |grande )?"
    r"(site|boutique|magasin|salle|lieu|local|atelier|fournil|cuisine|camion|vehicule|bus|"
    r"pirogue|bateau|antenne|agence|epicerie|restaurant|cafe|bar|creche|centre|ecole|refuge|"
    r"gite|ferme|jardin|point de vente|marche|etablissement|structure|equipe|chantier|"
    r"entrepot|usine|ligne de production|unite|maison|cinema|librairie|garage|ressourcerie|"
    r"recyclerie|tiers lieu|festival|implantation|activite)s?\b"
    r"|\b(a l'export|a l'international|vendre a l'etranger)\b"
    r"|\bdoubl\w* (notre |nos |l'|leur |son |sa |le )?(activite|chiffre d'affaires|production)"
    r"|\b(embaucher|recruter|engager) ([a-z0-9]+ ){1,2}de plus\b"
)
# "depuis la création de l'association", "dès la création": a date, the structure exists.
_SINCE = re.compile(r"\b(depuis|des|lors de|a) la\s*$")
_NEGATED = re.compile(r"\b(pas|plus|jamais|aucun|aucune|sans)( encore)?( de| d'| le| la)?\s*$")


def _blank_unless_done(match: re.Match[str]) -> str:
    """Blank a planned structure ("on veut créer une asso"), keep a done one ("on vient de
    créer une asso", "on a monté une association"): that one is what the user is now."""
    before = match.string[max(0, match.start() - 20) : match.start()]
    text = match.string
    if _DONE.search(before) or _SINCE.search(before) or says_it_exists(text):
        return match.group(0)
    if match.group("object").lstrip().startswith(("notre ", "mon ", "ma ")):
        return match.group(0)  # "les statuts de notre association": it exists
    start, end = match.span("object")
    return text[match.start() : start] + " " * (end - start)


# "projet scic énergie citoyenne", "un projet d'asso": the form of a project to come.
_PROJECT_FORM = re.compile(
    r"\bprojet (?:de |d')?(?P<object>scop|scic|cooperative|coop|asso|association|sas|sarl|cae)\b"
)


# "on veut faire un magasin de producteurs en scic": the form wished for the project.
_WISHED_FORM = re.compile(
    r"\b(veut|veux|voulons|voudrait|voudrions|aimerait|aimerions|souhaite|souhaitons|envisage|"
    r"envisageons|pensons|pourrait|pourrions|pourraient|pourrais)\b[^.?!;]{0,50}"
    r"(?<!rester )(?<!est )(?<!sommes )(?<!deja )"
    r"\ben (?P<object>scic|scop|cooperative|coop|asso|"
    r"association|sas)\b"
)


# "l'asso sera créée en septembre": the form to come, as the subject of a future.
_FUTURE_SUBJECT = re.compile(
    r"\b(?P<object>l'association|l'asso|la scop|la scic|la cooperative|la structure|"
    r"l'entreprise) (sera|va etre|devrait etre) (creee|declaree|montee|immatriculee|lancee)\b"
)


def present(text: str) -> str:
    """The text with the structures it only plans blanked out."""
    for planned in (_FUTURE_OBJECT, _FUTURE_SUBJECT, _WISHED_FORM, _PROJECT_FORM):
        text = planned.sub(_blank_unless_done, text)
    return text


def says_it_exists(text: str) -> bool:
    """The structure is registered or already created, said without a negation."""
    for pattern in (_REGISTERED, _ALREADY_CREATED):
        for match in pattern.finditer(text):
            if not _NEGATED.search(text[max(0, match.start() - 25) : match.start()]):
                return True
    return False


# Being founded, not yet registered: "AG constitutive samedi", "on écrit les statuts de notre
# asso", "on n'est pas encore déclarés". The form is named as if it existed ("notre asso"),
# but the founders speak (a group, or one person).
_FOUNDING = re.compile(
    r"\b(assemblee constitutive|ag constitutive|"
    r"pas encore (declares|declarees?|deposes|immatricules|immatriculees?)|"
    r"rien (encore )?depose|"
    r"(on|nous|je) (ecrit|ecrivons|ecris|redige|redigeons|prepare|preparons|finalise|"
    r"finalisons) (les|nos|mes) statuts|"
    r"statuts (sont )?((presque|bientot|quasi) )?(prets|finis|termines)|"
    r"statuts en (preparation|redaction|cours de redaction))\b"
)
# Forms the founders will have; an insertion project is named by what it does (extraction.py).
_FOUNDED_FORMS = ("association", "association-employeuse", "scop-scic", "entreprise")


def founders_speak(profile: dict[str, float], text: str) -> None:
    """A structure being founded is not yet who speaks: its founders are."""
    if not _FOUNDING.search(text) or says_it_exists(text):
        return
    weight = sum(profile.pop(form, 0.0) for form in _FOUNDED_FORMS)
    if weight:
        speaker = "collectif" if _GROUP_SPEAKS.search(text) else "individuel"
        profile[speaker] = profile.get(speaker, 0.0) + weight


def speaker_of_plan(profile: dict[str, float], text: str) -> None:
    """ "on veut monter une Scop": the Scop is to come; today a group (or one person) speaks.
    Not when the message already names a structure of the speaker's own ("notre asso")."""
    plain = present(text)
    planned = bool(_FORM_WORD.search(text)) and not _FORM_WORD.search(plain)
    if not planned or "collectif" in profile or "individuel" in profile or OURS.search(plain):
        return
    speaker = "collectif" if _GROUP_SPEAKS.search(plain) else "individuel"
    profile[speaker] = SPEAKER_WEIGHT
