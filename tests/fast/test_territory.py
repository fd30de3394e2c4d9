"""Territory resolver, against the shipped knowledge/territories/territories.json.gz."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.territory.index import DEFAULT_PATH, TerritoryIndex, load_territories, name_key
from assistant.territory.tables import Tables, read_pays


@pytest.fixture(scope="module")
def ix() -> TerritoryIndex:
    return load_territories(DEFAULT_PATH)


def test_data_counts(ix: TerritoryIndex) -> None:
    counts = ix.counts
    assert counts["regions"] == 18
    assert counts["departements"] == 101
    assert counts["communes"] > 34_000
    assert counts["former_communes"] > 2_500
    assert DEFAULT_PATH.stat().st_size < 2_000_000


def test_load_is_cached() -> None:
    assert load_territories() is load_territories(DEFAULT_PATH)


def test_normalize() -> None:
    assert name_key("Saint-Étienne") == name_key("st etienne") == name_key("SAINT ETIENNE")
    assert name_key("L’Haÿ-les-Roses") == "l hay les roses"


@pytest.mark.parametrize(
    ("text", "dep", "region", "commune"),
    [
        ("Guéret", "23", "75", "Guéret"),
        ("gueret", "23", "75", "Guéret"),
        ("GUERET", "23", "75", "Guéret"),
        ("près de Guéret", "23", "75", "Guéret"),
        ("à côté de Limoges", "87", "75", "Limoges"),
        ("du côté de Limoges", "87", "75", "Limoges"),
        ("Limoges", "87", "75", "Limoges"),
        ("st flour", "15", "84", "Saint-Flour"),
        ("Saint-Étienne", "42", "84", "Saint-Étienne"),
        ("SAINT ETIENNE", "42", "84", "Saint-Étienne"),
        ("Ajaccio", "2A", "94", "Ajaccio"),
        ("Bastia", "2B", "94", "Bastia"),
        ("Fort-de-France", "972", "02", "Fort-de-France"),
        ("Mamoudzou", "976", "06", "Mamoudzou"),
        ("au Mans", "72", "52", "Le Mans"),
        ("Paris", "75", "11", "Paris"),
        ("Paris 15e", "75", "11", "Paris"),
        ("23096", "23", "75", "Guéret"),  # INSEE code
        ("Saint-Denis (974)", "974", "04", "Saint-Denis"),
    ],
)
def test_resolve_commune(
    ix: TerritoryIndex, text: str, dep: str, region: str, commune: str
) -> None:
    res = ix.resolve(text)
    assert res.status == "found", res
    assert (res.departement, res.region, res.commune) == (dep, region, commune)


def test_typo(ix: TerritoryIndex) -> None:
    res = ix.resolve("Limoge")
    assert (res.status, res.departement, res.commune, res.fuzzy) == ("found", "87", "Limoges", True)
    assert ix.resolve("Clermont-Ferand").commune == "Clermont-Ferrand"
    assert ix.resolve("dans la creuze").departement == "23"


def test_commune_deleguee(ix: TerritoryIndex) -> None:
    # Blaudeix merged into Parsac (Creuse) as a commune déléguée.
    res = ix.resolve("Blaudeix")
    assert res.status == "found"
    assert res.kind == "commune-deleguee"
    assert (res.commune, res.commune_code, res.departement, res.region) == (
        "Parsac",
        "23149",
        "23",
        "75",
    )


def test_commune_associee(ix: TerritoryIndex) -> None:
    res = ix.resolve("Cordieux")  # associated to Montluel (Ain)
    assert (res.status, res.kind, res.departement) == ("found", "commune-associee", "01")


def test_ambiguous_name(ix: TerritoryIndex) -> None:
    res = ix.resolve("Saint-Denis")
    assert res.status == "ambiguous"
    deps = [c.departement for c in res.candidates]
    assert {"93", "974"} <= set(deps)
    pops = [c.population or 0 for c in res.candidates]
    assert pops == sorted(pops, reverse=True)
    assert res.departement is None
    valence = ix.resolve("Valence")
    assert valence.status == "ambiguous"
    assert valence.candidates[0].departement == "26"


def test_dominant_city_is_found(ix: TerritoryIndex) -> None:
    res = ix.resolve("Le Port")  # Le Port (974, ~34 000) vs Le Port (09, ~170)
    assert (res.status, res.departement) == ("found", "974")
    assert len(res.candidates) == 2


def test_postal_code_one_departement(ix: TerritoryIndex) -> None:
    res = ix.resolve("23000")
    assert (res.status, res.kind, res.departement, res.region) == (
        "found",
        "postal_code",
        "23",
        "75",
    )
    assert "Guéret" in [c.commune for c in res.candidates]
    assert ix.resolve("75015").commune == "Paris"


def test_postal_code_several_departements(ix: TerritoryIndex) -> None:
    res = ix.resolve("01200")  # Valserhône (01) and Éloise (74)
    assert res.status == "ambiguous"
    assert {"01", "74"} <= {c.departement for c in res.candidates}


@pytest.mark.parametrize(
    ("text", "dep"),
    [
        ("23", "23"),
        ("2A", "2A"),
        ("2b", "2B"),
        ("974", "974"),
        ("dans le 23", "23"),
        ("Creuse", "23"),
        ("en Haute-Vienne", "87"),
        ("Corse-du-Sud", "2A"),
        ("Finistère", "29"),
        ("Vienne", "86"),
    ],
)
def test_resolve_departement(ix: TerritoryIndex, text: str, dep: str) -> None:
    res = ix.resolve(text)
    assert (res.status, res.kind, res.departement) == ("found", "departement", dep)


def test_corsica_20_is_ambiguous(ix: TerritoryIndex) -> None:
    res = ix.resolve("20")
    assert res.status == "ambiguous"
    assert [c.departement for c in res.candidates] == ["2A", "2B"]


def test_town_beats_departement_after_a(ix: TerritoryIndex) -> None:
    assert ix.resolve("à Vienne").departement == "38"


@pytest.mark.parametrize(
    ("text", "region", "dep"),
    [
        ("Bretagne", "53", None),
        ("Nouvelle-Aquitaine", "75", None),
        ("PACA", "93", None),
        ("Limousin", "75", None),
        ("La Réunion", "04", "974"),
    ],
)
def test_resolve_region(ix: TerritoryIndex, text: str, region: str, dep: str | None) -> None:
    res = ix.resolve(text)
    assert res.status == "found"
    assert (res.region, res.departement) == (region, dep)


@pytest.mark.parametrize(
    "text",
    [
        "bonjour",
        "xyzzy",
        "ver de terre",
        "je ne sais pas",
        "",
        "au marché",
        "on fait de la vente en ligne",
        "à domicile",
    ],
)
def test_resolve_not_found(ix: TerritoryIndex, text: str) -> None:
    assert ix.resolve(text).status == "not_found"


def test_helpers(ix: TerritoryIndex) -> None:
    assert ix.departement_name("23") == "Creuse"
    assert ix.departement_name("2A") == "Corse-du-Sud"
    assert ix.region_name("75") == "Nouvelle-Aquitaine"
    assert ix.region_of("23") == "75"
    assert ix.region_of("974") == "04"
    assert ix.region_of("99") is None
    assert ix.departements_of("94") == ["2A", "2B"]
    assert "23" in ix.departements_of("75")
    assert len(ix.departements_of("75")) == 12


@pytest.mark.parametrize(
    ("sentence", "dep", "commune"),
    [
        ("je préside une asso à Guéret, on a 4 salariés", "23", "Guéret"),
        ("on est un collectif de voisins près de Saint-Flour", "15", "Saint-Flour"),
        ("mon code postal est 23000", "23", None),
        ("en Corse-du-Sud", "2A", None),
        ("dans le Finistère", "29", None),
        ("je suis à la Réunion", "974", None),
        ("On est basés au Mans depuis 2019", "72", "Le Mans"),
        ("je suis a limoges", "87", "Limoges"),
        ("j'habite dans le 93", "93", None),
        ("nous sommes à Saint-Denis à la Réunion", "974", "Saint-Denis"),
        ("on cherche un local du côté de Bordeaux", "33", "Bordeaux"),
        ("Notre association de Clermont-Ferrand emploie 3 personnes", "63", "Clermont-Ferrand"),
        ("on monte une SCIC à Fort-de-France", "972", "Fort-de-France"),
        ("on est une ressourcerie en Creuse", "23", None),
        ("on est à Valence, dans la Drôme", "26", "Valence"),
        ("notre tiers-lieu est à Blaudeix", "23", "Parsac"),
        ("je vais à Tours la semaine prochaine", "37", "Tours"),
        ("je suis à Limoge", "87", "Limoges"),
    ],
)
def test_find_in_text(ix: TerritoryIndex, sentence: str, dep: str, commune: str | None) -> None:
    res = ix.find_in_text(sentence)
    assert res is not None, sentence
    assert res.status == "found", res
    assert res.departement == dep
    assert res.commune == commune


@pytest.mark.parametrize(
    ("sentence", "dep", "commune"),
    [
        # lowercase, no accents, typos: what people type on a phone
        (
            "on veut creer une entreprise d'insertion a clermont ferand",
            "63",
            "Clermont-Ferrand",
        ),
        ("on est a carhaix plougeur", "29", "Carhaix-Plouguer"),
        ("on est a Carhaix Plougeur", "29", "Carhaix-Plouguer"),
        ("a vilerbanne", "69", "Villeurbanne"),
        ("pres de millau", "12", "Millau"),
        ("on habite a st flour", "15", "Saint-Flour"),
        ("a la reunion", "974", None),
        ("on est basés a la reunion depuis 2010", "974", None),
        ("a tours", "37", "Tours"),
        ("je vais a nice", "06", "Nice"),
        ("on est a paris", "75", "Paris"),
        ("je suis a cote de limoges", "87", "Limoges"),
        ("je suis a limoge", "87", "Limoges"),
        ("dans la creuse", "23", None),
        ("on est dans le var depuis 10 ans", "83", None),
        ("en haute vienne", "87", None),
        ("en seine saint denis", "93", None),
        ("a pointe a pitre", "971", "Pointe-à-Pitre"),
        ("a st pierre a la reunion", "974", "Saint-Pierre"),
        ("on est 4 potes a die on veut une recyclerie", "26", "Die"),
        ("une asso d'aide à domicile coté brioude", "43", "Brioude"),
        ("adjointe à la mairie de saint junien", "87", "Saint-Junien"),
        # a doubled letter typed once: the town meant, not those one letter away
        ("cest une ludothéque a lanion.", "22", "Lannion"),
        ("on est a bayone", "64", "Bayonne"),
    ],
)
def test_find_in_text_lowercase(
    ix: TerritoryIndex, sentence: str, dep: str, commune: str | None
) -> None:
    res = ix.find_in_text(sentence)
    assert res is not None, sentence
    assert res.status == "found", res
    assert (res.departement, res.commune) == (dep, commune)
    assert ix.resolve(sentence).departement == dep


def test_find_in_text_region(ix: TerritoryIndex) -> None:
    res = ix.find_in_text("on est une petite asso en Bretagne")
    assert res is not None
    assert (res.kind, res.region, res.departement) == ("region", "53", None)


def test_find_in_text_ambiguous(ix: TerritoryIndex) -> None:
    res = ix.find_in_text("notre asso est à Saint-Denis")
    assert res is not None
    assert res.status == "ambiguous"
    assert {"93", "974"} <= {c.departement for c in res.candidates}


@pytest.mark.parametrize(
    "sentence",
    [
        "j'ai besoin d'un local",
        "on veut créer une scop",
        "bonjour",
        "je ne sais pas",
        "ver de terre",
        "on est en ligne",
        "Le budget est de 35000 euros",
        "on a 23 salariés",
        "je suis à la réunion de demain",
        "côté boulot ça va, côté sous c'est dur",
        "côté vente en ligne c'est compliqué",  # not Vence: no typo after "côté"
        "côté recettes on galère",
        "côté jardin on a des tomates",
        "de mon côté pratique je gère la compta",
        "C'est en cours",
        "Albert m'a dit de venir",
        "Merci beaucoup",
        "Plan de financement",
        "je suis en train de monter un projet",
        "Y a-t-il des aides ?",
        "en mars 2024",
        "du 12 au 15 mars",
        "sur place ou à distance",
        "on a un plan de trésorerie",
        "mon association existe depuis 2015",
        "Nous sommes 12 bénévoles",
        "on cherche des fonds pour le projet",
        "il faut passer par le maire",
        # lowercase after a preposition, but not a place
        "on est à deux",
        "à domicile",
        "je suis à fond",
        "on vend au bord de la route",
        "au marché",
        "à la maison",
        "en fait on est une asso",
        "on fait de la vente en ligne",
        "à plusieurs",
        "je veux créer un tiers-lieu",
        "on cherche un local",
        "dans le nettoyage de vehicules",
        "pas de salarié non, que des bénévoles",
        "on a besoin d'aide pour le modèle économique",
        "à vie",
        "c'est à peu près 3000 euros",
        "à tout à l'heure",
        "c'est à moi de voir",
        "à nous de jouer",
        "on travaille à temps partiel",
        "à côté",
        "on est à trois sur le projet",
        "je suis a la reunion des partenaires",
        "je regarde dans la somme de 500 euros",
        "on est a tours de bras sur le projet",
        "on va a la banque demain",
        "on est a la mairie ce matin",
        "on fait de la restauration a la cantine",
        "on pense a monter une structure d'insertion",
        "je suis a la retraite depuis peu",
    ],
)
def test_find_in_text_no_place(ix: TerritoryIndex, sentence: str) -> None:
    assert ix.find_in_text(sentence) is None


@pytest.mark.parametrize(
    ("sentence", "dep"),
    [
        ("dans la Creuse", "23"),  # not the commune La Creuse (70)
        ("dans la creuse", "23"),
        ("dans le Nord", "59"),
        ("dans la Manche", "50"),
        ("dans l'Ain", "01"),
        ("dans les Landes", "40"),
        ("dans la Somme", "80"),
        ("en Savoie", "73"),
        ("dans le Var", "83"),
        ("dans le Lot", "46"),
        ("en Corrèze", "19"),  # not the commune Corrèze (19)
        ("je suis dans la Creuse", "23"),
    ],
)
def test_departement_beats_commune_after_dans_en(
    ix: TerritoryIndex, sentence: str, dep: str
) -> None:
    for res in (ix.find_in_text(sentence), ix.resolve(sentence)):
        assert res is not None, sentence
        assert (res.status, res.kind, res.departement, res.commune) == (
            "found",
            "departement",
            dep,
            None,
        )


@pytest.mark.parametrize(
    ("sentence", "dep", "commune"),
    [
        ("j'habite un petit bourg a coté d'Aubusson dans la Creuse", "23", "Aubusson"),
        ("Saint-Denis à la Réunion", "974", "Saint-Denis"),
        ("Valence dans la Drôme", "26", "Valence"),
        ("Valence (26)", "26", "Valence"),
        ("à Saint-Pierre, 97410", "974", "Saint-Pierre"),
        ("Ussel en Corrèze", "19", "Ussel"),
        ("Montreuil en Seine-Saint-Denis", "93", "Montreuil"),
        ("Saint-Omer dans le Pas-de-Calais", "62", "Saint-Omer"),
    ],
)
def test_commune_disambiguated_by_area(
    ix: TerritoryIndex, sentence: str, dep: str, commune: str
) -> None:
    for res in (ix.find_in_text(sentence), ix.resolve(sentence)):
        assert res is not None, sentence
        assert (res.status, res.departement, res.commune) == ("found", dep, commune), res


@pytest.mark.parametrize(
    ("sentence", "deps"),
    [
        ("à Aubusson dans le Finistère", {"23", "61"}),
        ("Aubusson dans le Var", {"23", "61"}),
        ("Valence dans le Finistère", {"26", "82"}),
        ("Saint-Denis en Bretagne", {"93", "974"}),
    ],
)
def test_commune_not_in_area_stays_ambiguous(
    ix: TerritoryIndex, sentence: str, deps: set[str]
) -> None:
    for res in (ix.find_in_text(sentence), ix.resolve(sentence)):
        assert res is not None, sentence
        assert res.status == "ambiguous", res
        assert deps <= {c.departement for c in res.candidates}


def test_sentence_initial_name_needs_an_area(ix: TerritoryIndex) -> None:
    # a capitalised word opening a sentence is only read as a commune when confirmed
    assert ix.find_in_text("Valence est une belle ville") is None
    res = ix.find_in_text("Valence. On est dans le Finistère")
    assert res is not None
    assert (res.kind, res.departement) == ("departement", "29")


@pytest.mark.parametrize(
    ("message", "dep", "commune"),
    [
        # official names with a parenthesis, and an area that settles the rest
        ("Château-Chinon (Nièvre)", "58", "Château-Chinon (Ville)"),
        # typos in long names, and short ones towards a big town
        ("à saint etiene", "42", "Saint-Étienne"),
        ("a clermont ferant, on", "63", "Clermont-Ferrand"),
        ("a troye", "10", "Troyes"),
        ("a anecy", "74", "Annecy"),
        # the short name of a hyphenated town, a lowercase hyphenated name
        ("à brive", "19", "Brive-la-Gaillarde"),
        ("élue à la mairie de romorantin-lanthenay", "41", "Romorantin-Lanthenay"),
        # a town and the area beside it agree; a département code after the name
        ("Le Port, La Réunion", "974", "Le Port"),
        ("Montreuil 93", "93", "Montreuil"),
        ("on a 12 salariés à Saint-Denis 93", "93", "Saint-Denis"),
        # a short name is not given to a town when a commune already bears it
        ("je suis adjointe au maire du Blanc (Indre)", "36", "Le Blanc"),
        # session 15 (people12, a tuning set): a shortened name in the département named
        ("je vous écris de Saint-Amand (Cher)", "18", "Saint-Amand-Montrond"),
        ("je suis a lons le saunié, on a une asso", "39", "Lons-le-Saunier"),  # not Lons (64)
        ("REIMS pas Rennes !!", "51", "Reims"),  # a denied place gives way to the first word
        # after a big city, an ambiguous name with no namesake in its département is a quarter
        ("on est à Paris, dans le 20e, côté Belleville", "75", "Paris"),
        ("à Toulouse, quartier Saint-Cyprien", "31", "Toulouse"),
        ("on est à Bellegarde, dans l'Ain", "01", "Valserhône"),
        # where one grew up, worked or saw a project is not where one is
        (
            "j'ai grandi à Marseille, j'ai bossé à Paris, je m'installe à Digne",
            "04",
            "Digne-les-Bains",
        ),
        (
            "on a vu un projet à Grenoble, on voudrait faire pareil chez nous à Annonay",
            "07",
            "Annonay",
        ),
        ("je viens de Lyon mais on s'installe à Vichy", "03", "Vichy"),
        ("on vient de créer une asso à Lyon", "69", "Lyon"),  # "vient de" + a verb: not origin
        # a typo read again inside the area named beside it; a bracket ends the name
        ("un centre pres de Langre (Haute-Marne), c'est un projet", "52", "Langres"),
        # the words of a misspelt name are not places of their own (Seine is not Séné)
        (
            "l'asso que je dirige (Romily sur Seine, 12 salariés) s'étend sur l'Aube",
            "10",
            "Romilly-sur-Seine",
        ),
        # typed in lowercase: where one is from, a town people know, a big city after "sur"
        ("wesh jsuis de garges les gonesse, 24 ans", "95", "Garges-lès-Gonesse"),
        ("bénévole a la boutique gratuite d'aurillac (on donne tout)", "15", "Aurillac"),
        ("sas de livraison à vélo cargo sur tours, 5 salariés", "37", "Tours"),
        # a namesake set aside, someone else's town: not where one is
        (
            "je corrige : Tournon-sur-Rhône, en Ardèche. L'autre Tournon c'est dans le "
            "Lot-et-Garonne, rien à voir",
            "07",
            "Tournon-sur-Rhône",
        ),
        (
            "erreur de ma part : Mortagne-sur-Sèvre, en Vendée ! Mortagne-au-Perche c'est là "
            "où habite ma sœur",
            "85",
            "Mortagne-sur-Sèvre",
        ),
    ],
)
def test_places_as_people_write_them(
    ix: TerritoryIndex, message: str, dep: str, commune: str
) -> None:
    found = ix.find_in_text(message)
    assert found is not None and found.status == "found", found
    assert (found.departement, found.commune) == (dep, commune)


@pytest.mark.parametrize("message", ["on fait du porte-à-porte", "un vide-grenier"])
def test_hyphenated_words_are_not_places(ix: TerritoryIndex, message: str) -> None:
    assert ix.find_in_text(message) is None


def test_a_headcount_after_a_town_is_not_a_departement_code(ix: TerritoryIndex) -> None:
    found = ix.find_in_text("Lille 12 salariés")
    assert found is None or found.departement != "12"


def test_where_a_structure_is_not_where_it_wants_to_go(ix: TerritoryIndex) -> None:
    text = "entreprise adaptée à Niort, on voudrait ouvrir un deuxième site à La Rochelle"
    found = ix.find_in_text(text)
    assert found is not None and found.departement == "79"
    alone = ix.find_in_text("on voudrait ouvrir un deuxième site à La Rochelle")
    assert alone is not None and alone.departement == "17"  # the only place named


def test_a_building_for_sale_is_not_in_vendee(ix: TerritoryIndex) -> None:
    found = ix.find_in_text("J'habite Bagnères-de-Bigorre. Le vieil hôtel est à vendre.")
    assert found is not None and found.departement == "65"


@pytest.mark.parametrize(
    ("message", "dep"),
    [
        # a traditional area stands for its département and settles the town
        ("On est une bande de jeunes de Mauléon, en Soule, au Pays basque.", "64"),
        ("on est au pays basque", "64"),
        ("une ferme dans le perigord noir", "24"),
        # where a structure wants to open is not where it is
        (
            "Nous sommes à Reims et voulons ouvrir des antennes dans les Ardennes et l'Aube.",
            "51",
        ),
        # what one sells "du Périgord" or "de la Dordogne" is not where one lives
        ("je vends du vin de la Dordogne à Paris", "75"),
        ("à Paris on vend des produits du Pays basque", "75"),
        # beside a town, a pays only picks among towns: its edges are fuzzy
        ("je suis à Gourin, en Cornouaille", "56"),
        ("à Ambert, dans le Livradois-Forez", "63"),
        ("à Aigues-Mortes, en Petite Camargue", "30"),
        ("On veut créer une coopérative à Lyon sur le modèle de Mondragon au Pays basque", "69"),
    ],
)
def test_areas_people_name_around_a_town(ix: TerritoryIndex, message: str, dep: str) -> None:
    found = ix.find_in_text(message)
    assert found is not None and found.status == "found", found
    assert found.departement == dep


@pytest.mark.parametrize(
    "message", ["je suis à Mauléon, en Soule", "à Mauléon dans les Pyrénées-Atlantiques"]
)
def test_a_town_said_short_is_found_by_its_longer_name_inside_the_area(
    ix: TerritoryIndex, message: str
) -> None:
    found = ix.find_in_text(message)  # the only Mauléon is in the Deux-Sèvres
    assert found is not None and (found.departement, found.commune) == ("64", "Mauléon-Licharre")


def test_pays_file_names_real_departements_and_hides_no_town() -> None:
    tables = Tables()
    assert len(tables.pays) >= 50
    for name, code in tables.pays.items():
        assert code in tables.departements, name
        key = name_key(name)
        clashes = {
            tables.communes[e.commune_code].departement
            for k in (key, f"le {key}", f"la {key}", f"les {key}")
            for e in tables.names.get(k, [])
        }
        assert clashes <= {code}, (name, clashes)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("- Soule\n", "liste"),
        ("Béarn: [64\n", "YAML illisible"),
        ("Bugey: 01\n", "guillemets"),  # the number 1, not the Ain
    ],
)
def test_a_pays_file_that_cannot_be_read_is_refused_in_french(
    tmp_path: Path, content: str, problem: str
) -> None:
    (tmp_path / "pays.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        read_pays(tmp_path / "pays.yaml")
    assert read_pays(tmp_path / "absent.yaml") == {}


def test_knowledge_validate_reports_a_pays_with_an_unknown_code(tmp_path: Path) -> None:
    from assistant.curation.validation import validate_data_files

    pays = tmp_path / "territories" / "pays.yaml"
    pays.parent.mkdir()
    pays.write_text('Soule: "64"\n', encoding="utf-8")
    prompts = tmp_path / "prompts"
    prompts.mkdir()

    def about_pays() -> list[str]:
        found = validate_data_files(tmp_path, prompts, set(), set())
        return [p.message for p in found if p.where == "territories/pays.yaml"]

    assert about_pays() == []
    pays.write_text('Sologne: "99"\n', encoding="utf-8")
    assert any("99" in message for message in about_pays())


def test_a_pays_with_an_unknown_code_is_left_out_not_a_crash(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_PATH, tmp_path / DEFAULT_PATH.name)
    (tmp_path / "pays.yaml").write_text('Soule: "64"\nSologne: "99"\n', encoding="utf-8")
    tables = Tables(tmp_path / DEFAULT_PATH.name)
    assert tables.pays == {"Soule": "64"}  # `knowledge validate` reports the other


def test_a_town_in_a_street_or_pilgrimage_name_is_not_where_one_is(ix: TerritoryIndex) -> None:
    said = (
        "l'association fait visiter l'abbatiale de Conques, les pèlerins de Saint-Jacques passent"
    )
    found = ix.find_in_text(said)
    assert found is not None and found.departement == "12", found
    found = ix.find_in_text("on est rue de Paris à Tulle")
    assert found is not None and found.commune == "Tulle", found


def test_a_lowercase_departement_name_says_where(ix: TerritoryIndex) -> None:
    # typed without capitals, a département in brackets after a town still counts ...
    res = ix.find_in_text("bonjour jsuis adjointe a la mairie de lalinde (dordogne)")
    assert res is not None and res.departement == "24"
    # ... in brackets only: elsewhere a lowercase name may be a word
    assert ix.find_in_text("on veut s'allier avec la mairie") is None
    assert ix.find_in_text("on cherche un lieu avec plaisir") is None
    said = ix.find_in_text("on vend cidre, calvados et jus de pomme à Lyon")
    assert said is not None and said.departement == "69"


def test_the_word_region_is_not_a_misspelt_place(ix: TerritoryIndex) -> None:
    said = "En fait l'argent on l'a, la Région et l'agglo suivent. Il nous manque un coordinateur"
    assert ix.find_in_text(said) is None  # not "La Réunion"


@pytest.mark.parametrize(
    ("sentence", "dep", "commune"),
    [
        ("Nou sé an asso Saint-Claude, Gwadloup, nou ka fè an maché", "971", "Saint-Claude"),
        ("an asso Le Lorrain, Matinik.", "972", "Le Lorrain"),
        ("nou lé a Saint-Benoît, Larényon", "974", "Saint-Benoît"),
    ],
)
def test_overseas_named_in_creole_settle_the_place(
    ix: TerritoryIndex, sentence: str, dep: str, commune: str
) -> None:
    res = ix.find_in_text(sentence)
    assert res is not None and res.status == "found", res
    assert (res.departement, res.commune) == (dep, commune)


@pytest.mark.parametrize(
    ("sentence", "status", "dep"),
    [
        ("Je suis maire de Châtenois, à côté de Sélestat.", "found", "67"),
        ("à Châtenois, près de Sélestat", "found", "67"),
        # another sentence may speak of another place: the name stays to be asked
        ("je vis à Saint-Denis. Je travaille à Bobigny", "ambiguous", None),
    ],
)
def test_a_town_named_beside_an_ambiguous_one_places_it(
    ix: TerritoryIndex, sentence: str, status: str, dep: str | None
) -> None:
    res = ix.find_in_text(sentence)
    assert res is not None and (res.status, res.departement) == (status, dep)


def test_a_place_denied_is_not_the_answer(ix: TerritoryIndex) -> None:
    """ "on est pas à Saint-Flour, on est à Murat": the place said, not the one denied."""
    found = ix.find_in_text("ah non pardon on est pas à Saint-Flour, on est à Murat")
    assert found is not None and found.commune_code != "15187"  # not Saint-Flour
    assert found.departement == "15" or any(c.departement == "15" for c in found.candidates)
    # a place denied alone is still the place named (nothing else to take)
    alone = ix.find_in_text("on est pas à Saint-Flour")
    assert alone is not None and alone.commune_code == "15187"


@pytest.mark.parametrize(
    ("message", "dep"),
    [("on est dans le 9-3", "93"), ("jsui ds le 974", "974"), ("ds la creuse", "23")],
)
def test_departements_as_typed_on_a_phone(ix: TerritoryIndex, message: str, dep: str) -> None:
    found = ix.find_in_text(message)
    assert found is not None and found.status == "found" and found.departement == dep, found


@pytest.mark.parametrize(
    "message",
    [
        "salut, on est une bande de voisins et on voudrait rouvrir le bistrot",  # Voisins (78)
        "je suis de nature inquiète",
        "le prix de vente",
        "on travaille sur place",
    ],
)
def test_lowercase_words_after_de_or_sur_are_not_places(ix: TerritoryIndex, message: str) -> None:
    assert ix.find_in_text(message) is None


@pytest.mark.parametrize(
    "message",
    [
        "on en est aux premières réflexions",  # Premières (Côte-d'Or), a former commune
        "on en a marre des plateformes",  # Marre (Meuse)
    ],
)
def test_a_lowercase_word_after_a_is_no_village(ix: TerritoryIndex, message: str) -> None:
    assert ix.find_in_text(message) is None


@pytest.mark.parametrize(
    ("message", "dep", "commune"),
    [
        # Baune is a village of Maine-et-Loire; in the Côte-d'Or it is Beaune misspelt
        ("on est 5 copains a Baune (cote d'or) et on monte une épicerie", "21", "21054"),
        # "auber" is no town: the département in brackets still says where
        ("on é 5 livreurs a velo a auber (93), on en a marre", "93", None),
    ],
)
def test_a_departement_in_brackets_wins_over_a_namesake_elsewhere(
    ix: TerritoryIndex, message: str, dep: str, commune: str | None
) -> None:
    found = ix.find_in_text(message)
    assert found is not None and found.status == "found", found
    assert (found.departement, found.commune_code) == (dep, commune)


def test_a_number_after_a_city_may_be_its_arrondissement(ix: TerritoryIndex) -> None:
    """Only a code in brackets falls back to the département: "Marseille 15" is not Cantal."""
    found = ix.find_in_text("on est à Marseille 15")
    assert found is not None and found.departement == "13"


def test_english_near_says_where(ix: TerritoryIndex) -> None:
    found = ix.find_in_text("I live near Grasse since 3 years. Je voudrais créer une association")
    assert found is not None and found.departement == "06"


def test_a_name_typed_without_the_accent_its_namesake_has(ix: TerritoryIndex) -> None:
    """Someone who writes accents and types « Vire » means Vire (Calvados), not Viré (71);
    without any accent in the message, the question stays open."""
    found = ix.find_in_text("Je suis professeure au lycée de Vire, mes élèves veulent créer")
    assert found is not None and found.status == "found" and found.departement == "14"
    plain = ix.find_in_text("je suis prof au lycee de Vire, mes eleves veulent creer")
    assert plain is not None and plain.status == "ambiguous"


def test_a_short_name_is_the_biggest_town_that_bears_it(ix: TerritoryIndex) -> None:
    """ "à Villefranche" is Villefranche-sur-Saône (36 000), not Villefranche-de-Rouergue
    (11 000) because the data file lists Aveyron first, nor the former village of that name in
    the Yonne (one of fourteen of Charny Orée de Puisaye, 4 900)."""
    found = ix.find_in_text("une asso à la ferme, à Villefranche.")
    assert found is not None and found.status == "found" and found.commune_code == "69264"


def test_a_name_after_mon_fils_is_a_person(ix: TerritoryIndex) -> None:
    """ "mon fils Mathis" is no misspelt Athis-Mons."""
    assert ix.find_in_text("Bonjour, mon fils Mathis, 27 ans, est moniteur de ski") is None
