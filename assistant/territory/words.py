"""Vocabulary as data: French words that are also commune names, the prepositions that
introduce a place, what never counts as a place after "à", unit words after a number, and
the aliases of régions and départements (PACA, IDF, Limousin…)."""

from __future__ import annotations

import re
from functools import cache

from assistant.text import fold


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that name communes but mostly mean something else in a French sentence. Such a name
# needs a capital letter (see the rules in mentions.py). Also the short grammatical words.
COMMON_WORDS: frozenset[str] = _words(
    """
    a ai aide ain ais ait al albert alex alix aller alors anais ange anges angles anse aout
    appelle arbre arcs as asso aube aucun aude auge aussi autre avant avec avenir avion
    avoine avril bain bains bar baron barre barres bas beau belle bernard besoin bien blaise
    bois bon bonjour bonne bonnes bonnet bord boulot bords bourg bout bras brie bu bus but ca cadre
    came camp campagne cannes car carre cave caves ce cela celle celles centre centres
    cercle cers ces chance change charge charme chasse chaud chaux chemin chene cher chez
    choisi choses chou choux ciel cite clair clefs clos coeur col colombe combe combes comme
    compas conte contes contre corps cote coteau cotes cour courant cours court courtes
    creche creuse croix cuve cyr dame dames de decembre degre demain demie denis des desert
    deux don dons dos doubs doux du durant eau eaux ecole elan eloise emploi en encore
    entre es est et etang etangs etat ete eu eure eve faux fay fer ferme fete feu fevrier
    fille fin fins fleurs foi foire fond fonds font force forge forges fort fosse fosses
    four fours frais france francs gard gare gens gilles gland gorges grand grande grandes
    grands gras grasse grave gros guerre hommes hopital ifs il ile iles ils indre jardin jardins
    janvier
    job jour jours juif juillet juin jury la lac lacs lance landes laurent le lent leon les
    lie lies lieu ligne lignes lime linge lire lis lisse lit local loge loges loin loire
    long longue lot lu lucie lune lutter lys ma mai main maire maison mal manche marche
    marches mare marie marin mars martin mas me mer mere mes messe mi mine mines moi mon
    monde mont montagne monte monts mot motte moulin moyen mur mure murs ne neuf neuve ni
    nice nicole noce nord notre nous novembre noyer nuits octobre oie oise on or orange orne
    ou oui our paix palais par parc parce parent paris pas passage pays pere petit petite
    pierre pin pins place places plaine plan plans plat plats plein pont ponts port porte
    portes pour pre pres prince projet pu puits pure py quartier quatre que qui remy rene
    reunion riche rien rive rives robert roche roches roi romain rond ronde rose rouge route
    routes rue sa sables sac saint sainte salarie salle salles salon sans saules sec sees
    sel sens sept septembre serre si simon simple soi soir soleil somme son sont source
    sources sous sud suisse sur survie table tableau taille tarn temple temps termes terre
    terres thomas toi ton tour tours tout trait tres trois tu tulle un une union us val vals
    var venir vent vents ver verger vers vert verte vie vienne vieux vigne vignes ville
    villes vincent vire voie vous vue y yves nul nulle savoir vendu vendue vendus vendues
    connaitre connait connais
    """
)
# Département names in COMMON_WORDS (Somme, Cher, Nord, Manche…) still need a capital in text.

SAINTS = frozenset({"saint", "sainte", "saints", "saintes"})
LINK_WORDS = frozenset(
    {
        "le",
        "la",
        "les",
        "l",
        "de",
        "du",
        "des",
        "d",
        "en",
        "sur",
        "sous",
        "et",
        "a",
        "au",
        "aux",
        "lez",
    }
)
# What people type after "à" that is not a place, even when a commune bears the name.
AFTER_A_STOP: frozenset[str] = frozenset(
    {
        "vie",
        "fond",
        "peu",
        "peu pres",
        "tout",
        "tous",
        "toutes",
        "moi",
        "toi",
        "nous",
        "vous",
        "eux",
        "plusieurs",
        "temps",
        "temps plein",
        "temps partiel",
        "domicile",
        "cote",
        "la maison",
        "maison",
        "deux",
        "trois",
        "quatre",
        "cinq",
        "distance",
        "terme",
        "long terme",
        "court terme",
        "venir",
        "partir",
        "priori",
        "part",
        "jour",
        "mi temps",
        "plein temps",
        # infinitives: "l'hôtel est à vendre" is not in Vendée
        "vendre",
        "louer",
        "faire",
        "prendre",
        "payer",
        "rembourser",
        "reprendre",
        "construire",
        "disposition",
    }
)
# After a lowercase common-word name ("dans la creuse", "a la reunion"), these words make it an
# ordinary noun: "à la réunion de demain", "dans la somme de 500 euros", "dans le lot de…".
COMPLEMENT_AFTER = frozenset(
    {
        "de",
        "du",
        "des",
        "d",
        "avec",
        "pour",
        "sur",
        "a",
        "au",
        "aux",
        "ce",
        "cet",
        "cette",
        "demain",
        "hier",
        "aujourd",
        "mensuelle",
        "hebdomadaire",
        "annuelle",
        "publique",
        "qui",
        "que",
        "dont",
        "entre",
        "sans",
    }
)
# A number followed by one of these is an amount, not a postal code or a département.
UNITS = re.compile(
    r"\s*(?:€|k€|eur\b|euros?\b|e\b|habitants?\b|hab\b|personnes?\b|salari|adh[ée]rent|"
    r"b[ée]n[ée]voles?\b|membres?\b|m2|m²|km|ans?\b|%|h\b|heures?\b|jours?\b|mois\b|fois\b)",
    re.IGNORECASE,
)

REGION_ALIASES: dict[str, str] = {
    "idf": "11",
    "ile de france": "11",
    "region parisienne": "11",
    "centre val de loire": "24",
    "region centre": "24",
    "bourgogne": "27",
    "franche comte": "27",
    "bourgogne franche comte": "27",
    "bfc": "27",
    "normandie": "28",
    "haute normandie": "28",
    "basse normandie": "28",
    "hauts de france": "32",
    "nord pas de calais": "32",
    "picardie": "32",
    "grand est": "44",
    "alsace": "44",
    "lorraine": "44",
    "champagne ardenne": "44",
    "pays de la loire": "52",
    "pays de loire": "52",
    "bretagne": "53",
    "nouvelle aquitaine": "75",
    "aquitaine": "75",
    "limousin": "75",
    "poitou charentes": "75",
    "occitanie": "76",
    "languedoc roussillon": "76",
    "midi pyrenees": "76",
    "languedoc": "76",
    "auvergne rhone alpes": "84",
    "aura": "84",
    "auvergne": "84",
    "rhone alpes": "84",
    "provence alpes cote d azur": "93",
    "paca": "93",
    "provence": "93",
    "region sud": "93",
    "corse": "94",
    "guadeloupe": "01",
    "martinique": "02",
    "guyane": "03",
    "reunion": "04",
    "la reunion": "04",
    "ile de la reunion": "04",
    "mayotte": "06",
}
DEPARTEMENT_ALIASES: dict[str, str] = {
    "reunion": "974",
    "ile de la reunion": "974",
    "guyane francaise": "973",
    "corse du sud": "2A",
    "haute corse": "2B",
    "seine saint denis": "93",
    "territoire de belfort": "90",
    "belfort": "90",
    # overseas départements as their people write them in Creole
    "gwadloup": "971",
    "gwadeloup": "971",
    "matinik": "972",
    "matnik": "972",
    "madinina": "972",
    "lagwiyann": "973",
    "gwiyann": "973",
    "larenyon": "974",
    "la renyon": "974",
    "maore": "976",
}

# Prepositions: the word(s) just before a mention.
STRONG_BEFORE_DE = frozenset(
    {
        "pres",
        "cote",
        "proche",
        "autour",
        "environs",
        "alentours",
        "region",
        "secteur",
        "coin",
        "loin",
        "agglo",
        "agglomeration",
        "banlieue",
        "metropole",
        "originaire",
        "sortie",
        "nord",
        "sud",
        "est",
        "ouest",
        "centre",
        "commune",
        "ville",
        "village",
        "departement",
        "environ",
        "mairie",  # "adjointe à la mairie de saint junien": the town, typed in lowercase
        "maire",
        # "jsuis de garges les gonesse", "on vient de lens": where one is from
        "suis",
        "jsuis",
        "sommes",
        "viens",
        "venons",
    }
)
STRONG = frozenset(
    {
        "a",
        "au",
        "aux",
        "sur",
        "vers",
        "en",
        "chez",
        "habite",
        "base",
        "basee",
        "bases",
        "basees",
        "installe",
        "installee",
        "installes",
        "installees",
        "near",  # "I live near Grasse": English speakers write to us too
    }
)
DANS_ARTICLES = frozenset({"le", "la", "l", "les"})
# A capitalised word after these is a person's name ("mon fils Mathis", "je m'appelle Odile").
NAMED_AFTER = _words(
    """fils fille mari femme epoux epouse compagnon compagne frere soeur pere mere voisin
    voisine ami amie copain copine collegue neveu niece cousin cousine oncle tante appelle
    appelles prenom madame monsieur mme mr"""
)

# How resolve() reads the start of a short answer: the prefix and the preposition it means.
RESOLVE_PREFIXES: tuple[tuple[str, str], ...] = tuple(
    (p + " ", prep)
    for p, prep in (
        ("a cote de", "de"),
        ("du cote de", "de"),
        ("pres de", "de"),
        ("proche de", "de"),
        ("autour de", "de"),
        ("vers", "vers"),
        ("dans le", "dans"),
        ("dans la", "dans"),
        ("dans l", "dans"),
        ("dans les", "dans"),
        ("en", "en"),
        ("a", "a"),
        ("au", "au"),
        ("aux", "aux"),
        ("sur", "sur"),
        ("du", "du"),
        ("de", "de"),
        ("d", "de"),
        ("des", "des"),
        ("chez", "chez"),
        ("region", "de"),
    )
)

# Words that name a kind of area, never a misspelt place.
NOT_A_TYPO = frozenset(
    {
        "region",
        "regions",
        "departement",
        "agglo",
        "agglomeration",
        "metropole",
        "mairie",
        "commune",
        "communes",
        "ville",
        "village",
        "quartier",
        "canton",
        # countries people come from or speak of ("je viens du Pérou", "réfugiés d'Ukraine")
        *_words(
            """perou maroc algerie tunisie senegal mali espagne italie portugal belgique allemagne
        ukraine roumanie pologne chili bresil colombie haiti comores madagascar cameroun congo
        turquie syrie liban afghanistan soudan erythree guinee niger tchad russie chine inde
        vietnam angleterre irlande ecosse canada quebec mexique argentine venezuela bolivie
        equateur cuba"""
        ),
    }
)


# A word this frequent in French writing is itself, not a town misspelt as it sounds ("à monter
# une structure" is not Monteux); "limoge" (50) or "kimper" (0) may be one.
FRENCH_WORD_FREQUENCY = 100


@cache
def _french_words() -> frozenset[str]:
    """The French words of pyspellchecker's word list (from OpenSubtitles), accents folded."""
    from spellchecker import SpellChecker

    counts = SpellChecker(language="fr", distance=1).word_frequency.dictionary
    return frozenset(fold(w) for w, n in counts.items() if n >= FRENCH_WORD_FREQUENCY)


def is_french_word(word: str) -> bool:
    """Whether a folded word is a common word of French (loaded on first use)."""
    return word in _french_words()
