"""Hybrid retrieval over the real shipped knowledge and its real index (`runtime` fixture)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.runtime import Runtime
from assistant.search.base import SearchFilter
from assistant.search.chunks import Chunk
from assistant.search.retrieval import HybridRetriever, Mode

QUESTIONS: list[tuple[str, str, set[str]]] = [
    # 000 — Avise, rencontre émergence & accélération 2018
    (
        "000",
        "combien d'acteurs font partie de la communauté émergence et accélération ?",
        {"avise-communaute-emergence-acceleration"},
    ),
    (
        "000",
        "c'est quoi un programme d'accélération ESS et à quel stade on y entre ?",
        {"avise-worldcafe-programmes-acceleration"},
    ),
    (
        "000",
        "comment un incubateur évalue les compétences entrepreneuriales des candidats",
        {
            "avise-atelier-competences-entrepreneuriales-pratiques",
            "avise-competences-entrepreneuriales-bonnes-pratiques",
        },
    ),
    (
        "000",
        "accompagner un projet ESS en zone rurale avec des relais locaux",
        {"avise-worldcafe-rural-collaborer-adapter", "avise-worldcafe-rural-ressources"},
    ),
    (
        "000",
        "monter un projet dans un quartier prioritaire de la politique de la ville",
        {"avise-worldcafe-qpv-contexte", "avise-worldcafe-qpv-pratiques"},
    ),
    ("000", "LeadHer mentorat de jeunes entrepreneures sociales", {"avise-programme-leadher"}),
    (
        "000",
        "AdopteUnEntrepreneur structure hôte qui héberge une jeune entreprise sociale",
        {"avise-programme-adopte-un-entrepreneur"},
    ),
    (
        "000",
        "un générateur de projets doit transmettre le projet à un porteur, comment faire ?",
        {
            "avise-generateurs-transmission-bonnes-pratiques",
            "avise-generateurs-transmission-enjeux",
        },
    ),
    (
        "000",
        "tech for good et accompagnement ESS numérique",
        {"avise-worldcafe-numerique-tech-for-good", "avise-numerique-dans-les-programmes"},
    ),
    (
        "000",
        "intrapreneuriat dans les grandes entreprises, Pop Up by Veolia",
        {"avise-worldcafe-intrapreneuriat-grandes-entreprises"},
    ),
    (
        "000",
        "tester son projet en conditions réelles avant de se lancer",
        {"avise-atelier-experimentation", "couveuses-entreprises"},
    ),
    # 001 — Nantes, atelier de cadrage
    (
        "001",
        "faut-il créer un guichet unique de l'accompagnement ESS à Nantes ?",
        {"nantes-guichet-unique-debat"},
    ),
    (
        "001",
        "quels sont les cinq enjeux de l'atelier de cadrage nantais",
        {"nantes-atelier-cadrage-enjeux"},
    ),
    (
        "001",
        "qui accompagne les projets ESS dans la région nantaise, Ecossolies, URSCOP ?",
        {"nantes-acteurs-accompagnement"},
    ),
    (
        "001",
        "rendre l'offre d'accompagnement lisible et visible à Nantes",
        {"nantes-visibilite-offre-accompagnement"},
    ),
    (
        "001",
        "accompagnement des publics fragiles et maillage du territoire nantais",
        {"nantes-maillage-solidarites"},
    ),
    ("001", "coopération entre porteurs de projets à Nantes", {"nantes-cooperation-porteurs"}),
    (
        "001",
        "innovation sociale et expérimentation dans la métropole nantaise",
        {"nantes-innovation-experimentation"},
    ),
    (
        "001",
        "nouveaux besoins d'accompagnement repérés à Nantes",
        {"nantes-nouveaux-besoins-accompagnement"},
    ),
    # 002 — Avise, écosystème de l'accompagnement
    (
        "002",
        "combien de DLA départementaux y a-t-il en France ?",
        {"dla-dispositif-local-accompagnement"},
    ),
    (
        "002",
        "combien de structures le DLA accompagne chaque année ?",
        # the DLA card gives the figure; the card on exactly this question does too
        {"dla-dispositif-local-accompagnement", "dla-combien-de-structures-par-an"},
    ),
    (
        "002",
        "qu'est-ce que la Fabrique à initiatives ?",
        {"fabrique-a-initiatives"},
    ),
    ("002", "à quoi sert une CRESS, chambre régionale de l'ESS ?", {"cress-chambres-regionales"}),
    ("002", "le label Territoires French Impact", {"eco-territoires-french-impact"}),
    (
        "002",
        "Trajectoir'ESS collectif d'accompagnateurs en Bretagne",
        {"eco-trajectoiress-bretagne"},
    ),
    ("002", "Tremplin HDF réseau d'accompagnement Hauts-de-France", {"eco-tremplin-hdf"}),
    ("002", "Acc'ESS en Auvergne-Rhône-Alpes", {"eco-acc-ess-auvergne-rhone-alpes"}),
    (
        "002",
        "quel rôle joue l'Avise pour les accompagnateurs ?",
        {"eco-avise-appui-accompagnateurs", "avise-agence-ingenierie-ess"},
    ),
    (
        "002",
        "qui accompagne les projets ESS, au niveau national, régional et local ?",
        {"eco-panorama-ecosysteme-accompagnement", "faq-trouver-accompagnement-local"},
    ),
    # 003 — CHORUM / CIDES
    (
        "003",
        "taux de survie à 5 ans des entreprises accompagnées",
        {"chorum-survie-entreprises-accompagnees"},
    ),
    (
        "003",
        "quelles sont les étapes du modèle générateur de projets",
        {"chorum-modele-generateur-projets"},
    ),
    (
        "003",
        "les quatre étapes du modèle accompagnement de porteurs",
        {"chorum-modele-accompagnement-porteurs"},
    ),
    (
        "003",
        "combien de dispositifs d'appui l'étude CHORUM CIDES a-t-elle analysés ?",
        {
            "chorum-panorama-14-dispositifs",
            "chorum-methodologie-etude",
            "chorum-etude-creation-entreprises-sociales",
        },
    ),
    (
        "003",
        "District Solidaire générateur de projets Grand Lyon",
        {"chorum-dispositif-district-solidaire"},
    ),
    ("003", "Pôle Sud PTCE Drôme Ardèche", {"chorum-dispositif-pole-sud"}),
    ("003", "Inter-Made couveuse ESS Marseille", {"chorum-dispositif-inter-made"}),
    (
        "003",
        "Alter'Incub incubateur d'entreprises sociales innovantes",
        {"chorum-dispositif-alter-incub"},
    ),
    (
        "003",
        "comment se financent les dispositifs d'appui aux entreprises sociales",
        {"chorum-modele-economique-dispositifs"},
    ),
    (
        "003",
        "combien de temps doit durer l'accompagnement, ni trop ni trop peu",
        {"chorum-bon-niveau-accompagnement"},
    ),
    # 004 — essaimage
    ("004", "la franchise sociale de Messidor", {"essaimage-franchise-sociale-messidor"}),
    ("004", "le modèle intégré d'essaimage de Phenix", {"essaimage-modele-integre-phenix"}),
    (
        "004",
        "essaimer en fédération comme Simon de Cyrène",
        {"essaimage-federation-simon-de-cyrene"},
    ),
    (
        "004",
        "Petites villes de demain pour les communes de moins de 20 000 habitants",
        {"essaimage-petites-villes-de-demain", "essaimage-ruralite"},
    ),
    ("004", "s'implanter en milieu rural, InSite et Agenda rural", {"essaimage-ruralite"}),
    (
        "004",
        "les grands principes du déploiement territorial d'une innovation sociale",
        {"essaimage-principes-deploiement-territorial"},
    ),
    (
        "004",
        "quels dispositifs facilitent l'implantation locale d'une structure qui essaime",
        {"essaimage-dispositifs-appui-implantation"},
    ),
    # national cards
    ("nat", "comment obtenir l'agrément ESUS ?", {"agrement-esus"}),
    (
        "nat",
        "qu'est-ce que la loi ESS de 2014 ?",
        {"ess-loi-2014-definition", "faq-quest-ce-que-l-ess"},
    ),
    (
        "nat",
        "je n'ai pas de SIRET, qui peut m'aider au stade de l'idée ?",
        {"faq-pas-de-siret-emergence"},
    ),
    ("nat", "prêt d'honneur Initiative France", {"initiative-france"}),
    (
        "nat",
        "entreprendre en restant salarié dans une coopérative d'activité et d'emploi",
        {"cae-cooperatives-activite-emploi"},
    ),
]


@pytest.fixture(scope="module")
def retriever(runtime: Runtime) -> HybridRetriever:
    return runtime.retriever


def test_the_question_set_covers_every_source_document() -> None:
    per_doc = {doc: sum(1 for d, _, _ in QUESTIONS if d == doc) for doc, _, _ in QUESTIONS}
    assert set(per_doc) == {"000", "001", "002", "003", "004", "nat"}
    assert all(n >= 5 for n in per_doc.values())


@pytest.mark.parametrize(
    ("doc", "question", "relevant"), QUESTIONS, ids=[q for _, q, _ in QUESTIONS]
)
def test_hybrid_finds_the_right_card(
    retriever: HybridRetriever, runtime: Runtime, doc: str, question: str, relevant: set[str]
) -> None:
    assert relevant <= set(runtime.cards), "the expected card ids must exist"
    if doc != "nat":
        # The expected cards really come from that source document.
        documents = {s.document for cid in relevant for s in runtime.cards[cid].sources}
        assert any(d and d.startswith(doc) for d in documents)
    hits = retriever.search(question, k=5)
    assert hits, question
    assert hits[0].card_id in relevant, [h.card_id for h in hits]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("c koi la fabrik a initiative", "fabrique-a-initiatives"),
        ("agrement esus c quoi", "agrement-esus"),
        ("franchise sociale messidor essaimage", "essaimage-franchise-sociale-messidor"),
        ("guichet unik accompagnement nantes", "nantes-guichet-unique-debat"),
    ],
)
def test_messy_spelling_still_finds_the_card(
    retriever: HybridRetriever, question: str, expected: str
) -> None:
    assert expected in [h.card_id for h in retriever.search(question, k=3)]


def test_one_hit_per_card_best_first(retriever: HybridRetriever) -> None:
    hits = retriever.search("accompagnement des associations employeuses", k=8)
    assert len(hits) == 8
    assert len({h.card_id for h in hits}) == len(hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    for hit in hits:
        assert hit.chunk.card_id == hit.card_id
        assert 0.0 <= hit.term_coverage <= 1.0


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
def test_every_mode_returns_results(retriever: HybridRetriever, mode: Mode) -> None:
    hits = retriever.search("Dispositif local d'accompagnement DLA emplois", k=5, mode=mode)
    assert len(hits) == 5
    assert hits[0].card_id == "dla-dispositif-local-accompagnement"
    if mode == "lexical":
        assert all(h.dense_rank is None and h.dense_similarity is None for h in hits)
        assert all(h.lexical_rank is not None for h in hits)
    elif mode == "dense":
        assert all(h.lexical_rank is None for h in hits)
        assert all(h.dense_similarity is not None and 0.0 < h.dense_similarity <= 1.0 for h in hits)
        # A card ranks by its closest passage or `question`, whichever is closer.
        closest = [max(h.dense_similarity or 0.0, h.question_similarity or 0.0) for h in hits]
        assert closest == sorted(closest, reverse=True)
    else:
        assert hits[0].lexical_rank is not None and hits[0].dense_rank is not None


def test_hybrid_fuses_by_reciprocal_rank(retriever: HybridRetriever) -> None:
    query = "prêt d'honneur pour créer son entreprise"
    hits = retriever.search(query, k=5)
    k = retriever.rrf_k
    for hit in hits:
        expected = sum(
            1.0 / (k + rank + 1) for rank in (hit.lexical_rank, hit.dense_rank) if rank is not None
        )
        assert hit.score == pytest.approx(expected)


def test_a_card_found_by_its_words_alone_is_still_judged_by_meaning(
    retriever: HybridRetriever,
) -> None:
    """A card no passage of which is among the nearest in meaning (found by BM25, or by one
    of its questions) still carries how close its passages are: the answer policy weighs it
    instead of reading "unrelated"."""
    query = "on a fait 3000 e de benefice cette annee dans l'asso, on a le droit"
    hits = retriever.search(query, k=5)
    assert "asso-excedent-benefices-non-lucrativite" in [h.card_id for h in hits]
    dense = {position for position, _ in retriever.dense(query, 40)}
    table = retriever.table
    dense_cards = {int(table.card_of[p]) for p in dense if not table.question[p]}
    lexical_only = [h for h in hits if table.card_position[h.card_id] not in dense_cards]
    assert lexical_only, "the query should reach a card by its words alone"
    for hit in hits:
        assert hit.dense_similarity is not None and 0.0 < hit.dense_similarity <= 1.0, hit


def test_lexical_needs_real_terms(retriever: HybridRetriever) -> None:
    assert retriever.search("le la les de du", k=5, mode="lexical") == []


def _chunk(**fields: object) -> Chunk:
    base: dict[str, object] = {
        "id": "c#0",
        "card_id": "c",
        "position": 0,
        "title": "t",
        "text": "x",
        "keywords": [],
        "kind": "programme",
        "stages": [],
        "needs": [],
        "profiles": [],
        "structure_kinds": [],
        "national": True,
        "regions": [],
        "departements": [],
    }
    base.update(fields)
    return Chunk.model_validate(base)


def test_search_filter_predicate() -> None:
    nantes = _chunk(national=False, regions=["52"], departements=["44"], stages=["creation"])
    national = _chunk(stages=[])
    assert SearchFilter().accepts(nantes)
    assert SearchFilter(departement="44").accepts(nantes)
    assert SearchFilter(region="52").accepts(nantes)
    assert not SearchFilter(departement="13", region="93").accepts(nantes)
    assert SearchFilter(departement="13", region="93").accepts(national)
    assert SearchFilter(stage="creation").accepts(nantes)
    assert not SearchFilter(stage="emergence").accepts(nantes)
    assert SearchFilter(stage="emergence").accepts(national)  # no stage: every stage
    assert not SearchFilter(card_kinds=("faq",)).accepts(nantes)
    assert SearchFilter(card_kinds=("faq", "programme")).accepts(nantes)


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
def test_territory_filter_excludes_other_territories(
    retriever: HybridRetriever, mode: Mode
) -> None:
    query = "guichet unique de l'accompagnement ESS à Nantes"
    unfiltered = [h.card_id for h in retriever.search(query, k=5, mode=mode)]
    assert "nantes-guichet-unique-debat" in unfiltered

    marseille = SearchFilter(departement="13", region="93")
    hits = retriever.search(query, k=10, search_filter=marseille, mode=mode)
    assert hits
    for hit in hits:
        assert hit.chunk.national or "13" in hit.chunk.departements or "93" in hit.chunk.regions
        assert not hit.card_id.startswith("nantes-")

    nantes = SearchFilter(departement="44", region="52")
    kept = [h.card_id for h in retriever.search(query, k=5, search_filter=nantes, mode=mode)]
    assert "nantes-guichet-unique-debat" in kept


def test_region_only_filter_keeps_regional_cards(retriever: HybridRetriever) -> None:
    hits = retriever.search("Trajectoir'ESS Bretagne", k=3, search_filter=SearchFilter(region="53"))
    assert hits[0].card_id == "eco-trajectoiress-bretagne"
    hits = retriever.search(
        "Trajectoir'ESS Bretagne", k=10, search_filter=SearchFilter(region="84")
    )
    assert "eco-trajectoiress-bretagne" not in [h.card_id for h in hits]


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
def test_stage_filter_excludes_other_stages(retriever: HybridRetriever, mode: Mode) -> None:
    query = "DLA dispositif local d'accompagnement des associations employeuses"
    # Found without the filter (consolidation / développement only). Among the first three:
    # in dense mode alone, the DLA FAQ card now ties with it on a question's similarity.
    unfiltered = [h.card_id for h in retriever.search(query, k=3, mode=mode)]
    assert "dla-dispositif-local-accompagnement" in unfiltered
    hits = retriever.search(query, k=10, search_filter=SearchFilter(stage="emergence"), mode=mode)
    assert hits
    assert "dla-dispositif-local-accompagnement" not in [h.card_id for h in hits]
    assert all(not h.chunk.stages or "emergence" in h.chunk.stages for h in hits)


def test_card_kind_filter(retriever: HybridRetriever) -> None:
    hits = retriever.search(
        "financer un projet ESS", k=10, search_filter=SearchFilter(card_kinds=("faq",))
    )
    assert hits and all(h.chunk.kind == "faq" for h in hits)


def test_filter_matching_nothing_returns_nothing(retriever: HybridRetriever) -> None:
    nothing = SearchFilter(card_kinds=("no-such-kind",))
    for mode in ("lexical", "dense", "hybrid"):
        assert retriever.search("DLA", k=5, search_filter=nothing, mode=mode) == []  # type: ignore[arg-type]


def test_retriever_is_current_and_covers_every_card(
    retriever: HybridRetriever, runtime: Runtime
) -> None:
    assert retriever.is_current(runtime.settings.index_dir)
    assert retriever.card_ids == set(runtime.cards)
    chunks = retriever.chunks_of(["agrement-esus"])
    assert chunks and {c.card_id for c in chunks} == {"agrement-esus"}


def test_a_small_corpus_is_searched_exactly(retriever: HybridRetriever) -> None:
    """The shipped corpus fits in memory: its nearest passages are the exact ones (ChromaDB's
    approximate search dropped a close neighbour in about one run in ten), and they agree
    with ChromaDB on the nearest one and its cosine."""
    assert retriever._vectors is not None
    for question in ("c'est quoi une scic", "le DLA ça coûte combien", "trouver un local"):
        vector = retriever.embedder.embed_query(question)
        exact = retriever._nearest(vector, 40)
        brute = retriever._vectors @ (vector / np.linalg.norm(vector))
        assert [p for p, _ in exact] == list(np.argsort(-brute, kind="stable")[:40])
        chroma = retriever._collection.query(
            query_embeddings=vector.reshape(1, -1), n_results=1, include=["distances"]
        )
        assert retriever.table.ids[exact[0][0]] == chroma["ids"][0][0]
        assert abs(exact[0][1] - (1.0 - chroma["distances"][0][0])) < 1e-4
