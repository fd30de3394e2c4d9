"""The conversation engine (Engine.handle) over the real script, knowledge and index."""

from __future__ import annotations

import pytest
from talking import talk

from assistant.dialogue.engine import MAX_ASKS, Engine
from assistant.dialogue.state import DiagnosticState
from assistant.paths import KNOWLEDGE_DIR
from assistant.render.parts import ContactsPart
from assistant.runtime import Runtime
from assistant.text import sentences
from assistant.understanding.extraction import Extraction
from assistant.understanding.script import load_script

BUTTONS = load_script(KNOWLEDGE_DIR / "diagnostic" / "script.yaml").messages.buttons
SEE_CONTACTS, SEE_FICHE, RESTART = BUTTONS.contacts, BUTTONS.fiche, BUTTONS.restart


@pytest.fixture(scope="module")
def engine(runtime: Runtime) -> Engine:
    return runtime.engine


def question(engine: Engine, slot: str) -> str:
    text = engine.script.slots[slot].question
    assert text
    return text


def labels(engine: Engine, slot: str) -> list[str]:
    return [q.label for q in engine.script.slots[slot].quick_replies]


# -- the diagnostic flow --------------------------------------------------------------------


def test_greeting(engine: Engine) -> None:
    result = engine.greeting()
    assert result.action == "start"
    assert result.reply == engine.script.messages.greeting


def test_hello_asks_the_first_question(engine: Engine) -> None:
    (result,) = talk(engine, "Bonjour")
    assert result.reply.endswith(question(engine, "territory"))
    assert result.state.last_question == "territory"
    assert result.contacts == []


def test_everything_in_one_message_gives_the_orientation(engine: Engine) -> None:
    (result,) = talk(
        engine,
        "Bonjour, je préside une asso à Guéret, on a 4 salariés. On galère avec la "
        "trésorerie, on voudrait pérenniser les postes",
    )
    state = result.state
    assert (state.departement, state.region, state.commune) == ("23", "75", "Guéret")
    assert state.profile == "association-employeuse"  # an association with staff: inferred
    assert state.stage == "consolidation"
    assert {"financement", "emploi-rh"} <= set(state.needs)
    assert state.employees == 4
    assert state.oriented and state.last_question is None
    assert 2 <= len(result.contacts) <= 5
    assert "dla-23" in [c.id for c in result.contacts]
    assert result.quick_replies == [SEE_FICHE, RESTART]
    assert engine.script.messages.ready in result.reply
    for contact in result.contacts:
        assert contact.name in result.reply
    assert result.sources  # guides backing the contacts
    assert result.next_steps


def test_orientation_comes_once_every_slot_is_known(engine: Engine) -> None:
    results = talk(
        engine,
        "Bonjour",
        "à Limoges",
        "Moi seul·e",
        "Modèle économique",
        "une ressourcerie dans mon quartier pour réemployer les objets",
    )
    for result in results[:-1]:
        assert result.contacts == [], result.reply
    # A person alone is most often at the emergence stage, which asks for a summary.
    assert results[2].state.stage == "emergence"
    assert results[3].state.last_question == "summary"
    assert results[3].reply.endswith(question(engine, "summary"))
    last = results[-1]
    state = last.state
    assert (state.departement, state.profile, state.stage) == ("87", "individuel", "emergence")
    assert state.needs == ["modele-economique"]
    assert state.summary == "une ressourcerie dans mon quartier pour réemployer les objets"
    assert last.contacts and state.oriented
    kinds = {c.kind for c in last.contacts}
    assert "dla" not in kinds  # a single person with an idea is not a DLA case


def test_an_answer_to_the_needs_question_is_not_the_project_summary(engine: Engine) -> None:
    results = talk(
        engine, "je suis à Tulle", "Moi seul·e", "pas besoin de financement, surtout de mentorat"
    )
    state = results[-1].state
    assert state.needs == ["mentorat"]
    assert state.summary is None
    assert state.last_question == "summary"


def test_quick_replies_set_slots(engine: Engine) -> None:
    results = talk(
        engine,
        "je suis à Tulle",
        "Une association avec salariés",
        "La structure existe, on veut la consolider",
        "Emploi, recrutement",
        "4 à 10",
    )
    assert results[0].quick_replies == labels(engine, "profile")
    assert results[1].state.profile == "association-employeuse"
    assert results[2].state.stage == "consolidation"
    assert results[3].state.needs == ["emploi-rh"]
    assert results[3].quick_replies == labels(engine, "employees")
    assert results[4].state.employees == 5
    assert results[4].contacts


def test_quick_reply_settles_the_slot_against_later_hints(engine: Engine) -> None:
    results = talk(engine, "je suis à Tulle", "Moi seul·e", "on a un projet avec des amis")
    assert results[1].state.profile == "individuel"
    assert results[2].state.profile == "individuel"


def test_known_slots_are_never_asked_again(engine: Engine) -> None:
    results = talk(
        engine,
        "on est un collectif de voisins à Guéret, c'est juste une idée de café associatif",
        "je ne sais pas",
        "on cherche un local",
        "un café associatif pour recréer du lien dans le bourg",
    )
    first = results[0].state
    assert (first.departement, first.profile, first.stage) == ("23", "collectif", "emergence")
    for result in results:
        for slot in ("territory", "profile", "stage"):
            assert question(engine, slot) not in result.reply
            assert str(engine.script.slots[slot].asked_again) not in result.reply
        assert not {"territory", "profile", "stage"} & set(result.state.asked)
    assert results[-1].contacts


def test_a_question_asked_again_after_another_answer_is_worded_anew(engine: Engine) -> None:
    # The needs question, answered with the team: the same words again would sound unheard.
    first, team, needs = talk(
        engine,
        "je préside une association de jardins partagés à Aurillac depuis 2015",
        "on a deux salariés en CDI",
        "des sous pour tenir l'hiver",
    )
    assert first.reply.endswith(question(engine, "needs"))
    again = engine.script.slots["needs"].asked_again
    assert again and team.reply.endswith(again) and question(engine, "needs") not in team.reply
    assert team.state.asked.count("needs") == 1  # not an ignored question
    assert "financement" in needs.state.needs


def test_the_other_wording_is_not_used_twice_running(engine: Engine) -> None:
    """A new user: two answers that taught something else in a row got « Et pour avancer… »
    twice; the second time the question is asked in its first words again."""
    _first, place, told = talk(
        engine,
        "Bonjour, mon voisin Théo et moi on voudrait monter une petite coopérative de "
        "réparation de vélos à Villefranche",
        "Villefranche-de-Rouergue, dans l'Aveyron",
        "pour l'instant c'est ds nos tetes, on n'a rien déclaré",
    )
    again = engine.script.slots["needs"].asked_again
    assert again and place.reply.endswith(again)
    assert told.state.last_question == "needs" and not told.reply.endswith(again)
    assert told.reply.endswith(question(engine, "needs"))


def test_an_unanswered_question_is_asked_at_most_twice(engine: Engine) -> None:
    results = talk(engine, "Bonjour", "blabla", "blabla", "blabla", "blabla")
    asked = results[-1].state.asked
    assert asked.count("territory") == MAX_ASKS
    assert asked.count("profile") == MAX_ASKS
    assert results[2].state.last_question == "profile"
    assert engine.script.messages.not_understood in results[1].reply


def test_dont_know_marks_the_pending_slot_and_moves_on(engine: Engine) -> None:
    results = talk(engine, "je suis à Guéret", "Une association", "je ne sais pas", "Financement")
    after = results[2]
    assert after.state.unknown == ["stage"]
    assert after.state.stage is None
    assert engine.script.messages.dont_know_ack in after.reply
    assert after.state.last_question == "needs"
    assert after.reply.endswith(question(engine, "needs"))
    final = results[3]
    assert question(engine, "stage") not in final.reply
    assert final.contacts  # orientation without the stage


def test_dont_know_for_the_territory(engine: Engine) -> None:
    results = talk(engine, "Bonjour", "je sais pas")
    assert results[1].state.unknown == ["territory"]
    assert results[1].state.last_question == "profile"


# -- corrections ----------------------------------------------------------------------------


def test_correction_moves_the_territory(engine: Engine) -> None:
    results = talk(
        engine,
        "j'ai une idée de ressourcerie, je suis à Guéret",
        "ah non, c'est à Limoges",
    )
    assert results[0].state.departement == "23"
    state = results[1].state
    assert (state.departement, state.region, state.commune) == ("87", "75", "Limoges")
    assert "Limoges" in results[1].reply


def test_a_place_mentioned_in_passing_does_not_move_the_territory(engine: Engine) -> None:
    results = talk(
        engine,
        "j'ai une idée de ressourcerie, je suis à Guéret",
        "j'ai travaillé à Limoges avant, j'aimerais trouver des financements",
    )
    assert results[1].state.departement == "23"
    assert "financement" in results[1].state.needs


def test_correction_changes_the_profile(engine: Engine) -> None:
    results = talk(
        engine,
        "on veut créer une asso de quartier avec des voisins à Tulle",
        "en fait on est déjà une asso",
    )
    assert results[0].state.profile == "collectif"
    assert results[1].state.profile == "association"
    assert results[1].state.departement == "19"


def test_correction_of_needs(engine: Engine) -> None:
    results = talk(
        engine, "je suis à Tulle", "Moi seul·e", "Trouver un local", "non, plutôt du financement"
    )
    assert results[2].state.needs == ["local"]
    assert results[3].state.needs == ["financement"]


def test_no_answering_another_question_keeps_the_needs(engine: Engine) -> None:
    first = engine.handle(DiagnosticState(), "on veut ouvrir une épicerie, on cherche un local")
    assert first.state.needs == ["local"]
    state = first.state.model_copy(update={"last_question": "stage"})
    then = engine.handle(state, "non rien de créé, on cherche aussi du financement")
    assert then.state.needs == ["local", "financement"]


def test_a_need_read_by_meaning_corrects_no_need(engine: Engine) -> None:
    # "non, c'est juste l'idée" after "que voulez-vous faire ?": a reading by meaning of a
    # legal need must not replace the premises said before
    first = engine.handle(DiagnosticState(), "on veut ouvrir une épicerie, on cherche un local")
    state = first.state.model_copy(update={"last_question": "summary"})
    meant = Extraction(needs=["juridique"], correction=True)
    new = state.model_copy(deep=True)
    engine._merge(new, meant, "summary", engine._understood())
    assert new.needs == ["local", "juridique"]
    named = Extraction(needs=["financement"], named_needs=["financement"], correction=True)
    engine._merge(new, named, "summary", engine._understood())
    assert new.needs == ["financement"]


# -- negations ------------------------------------------------------------------------------


def test_negated_need_is_not_recorded(engine: Engine) -> None:
    (result,) = talk(engine, "je suis à Guéret, pas besoin de financement, on cherche un local")
    assert result.state.needs == ["local"]


def test_negated_need_answering_the_needs_question(engine: Engine) -> None:
    results = talk(
        engine,
        "je suis à Tulle",
        "Moi seul·e",
        "C'est une envie ou une idée",
        "pas besoin de financement, surtout de mentorat",
    )
    assert results[-1].state.needs == ["mentorat"]


# -- free questions during the diagnostic ---------------------------------------------------


def test_free_question_gets_a_grounded_answer_then_the_question(
    engine: Engine, runtime: Runtime
) -> None:
    results = talk(engine, "je suis à Guéret", "C'est quoi le DLA ?")
    result = results[1]
    assert result.sources and result.sources[0].id == "dla-dispositif-local-accompagnement"
    dla = runtime.cards["dla-dispositif-local-accompagnement"]
    first_sentence = sentences(dla.body)[0]
    assert first_sentence in result.reply
    assert "Sources" in result.reply and dla.title in result.reply
    # The diagnostic goes on: the pending question follows the answer.
    assert result.state.last_question == "profile"
    assert result.reply.endswith(question(engine, "profile"))
    assert result.reply.index(first_sentence) < result.reply.index(question(engine, "profile"))
    assert result.quick_replies == labels(engine, "profile")
    assert result.state.departement == "23"
    assert result.contacts == []


def test_out_of_scope_question_mid_diagnostic_is_declined(engine: Engine) -> None:
    results = talk(engine, "je suis à Guéret", "Quel temps fera-t-il demain à Lyon ?")
    result = results[1]
    assert "Je n'ai pas trouvé de réponse fiable" in result.reply
    assert result.sources == []
    assert result.reply.endswith(question(engine, "profile"))
    assert result.state.departement == "23"  # "Lyon" in a question does not move the project


# -- territory ----------------------------------------------------------------------------------


def test_ambiguous_commune_offers_candidates(engine: Engine) -> None:
    (result,) = talk(engine, "j'ai une idée de ressourcerie à Saint-Denis")
    state = result.state
    assert state.departement is None
    assert state.last_question == "territory"
    assert {"93", "974"} <= {c.departement for c in state.territory_candidates}
    assert "Saint-Denis (Seine-Saint-Denis, 93)" in result.quick_replies
    assert "Saint-Denis (La Réunion, 974)" in result.quick_replies


@pytest.mark.parametrize(
    ("choice", "departement", "region"),
    [
        ("Saint-Denis (Seine-Saint-Denis, 93)", "93", "11"),
        ("Saint-Denis (La Réunion, 974)", "974", "04"),
        ("celle de la Seine-Saint-Denis", "93", "11"),
    ],
)
def test_choosing_a_candidate_sets_the_departement(
    engine: Engine, choice: str, departement: str, region: str
) -> None:
    results = talk(engine, "j'ai une idée de ressourcerie à Saint-Denis", choice)
    state = results[1].state
    assert (state.departement, state.region, state.commune) == (departement, region, "Saint-Denis")
    assert state.territory_candidates == []
    assert state.last_question != "territory"


def test_choosing_a_candidate_by_number(engine: Engine) -> None:
    first = talk(engine, "j'ai une idée de ressourcerie à Saint-Denis")[0]
    (second,) = talk(engine, "2", state=first.state)
    chosen = first.state.territory_candidates[1]
    assert second.state.departement == chosen.departement
    assert second.state.commune == "Saint-Denis"


def test_overseas_territory_sets_the_context(engine: Engine) -> None:
    (result,) = talk(engine, "on monte une asso à Mamoudzou")
    assert (result.state.departement, result.state.region) == ("976", "06")
    assert "outre-mer" in result.state.context


def test_postal_code_and_commune_deleguee(engine: Engine) -> None:
    (a,) = talk(engine, "on est en 23200")
    assert (a.state.departement, a.state.region) == ("23", "75")
    (b,) = talk(engine, "j'habite à Blaudeix")
    assert (b.state.departement, b.state.commune) == ("23", "Parsac")
    (c,) = talk(engine, "on est près de Millau")
    assert c.state.departement == "12"


# -- commands -------------------------------------------------------------------------------


def _oriented_state(engine: Engine) -> DiagnosticState:
    return talk(engine, "je préside une asso à Guéret, on a 4 salariés, on galère")[0].state


@pytest.mark.parametrize("command", ["recommencer", "Recommencer !", "/recommencer"])
def test_restart(engine: Engine, command: str) -> None:
    (result,) = talk(engine, command, state=_oriented_state(engine))
    assert result.action == "restart"
    assert result.state == DiagnosticState()
    assert result.reply == engine.script.messages.restarted


@pytest.mark.parametrize("command", ["voir mes contacts", SEE_CONTACTS, "/contacts"])
def test_see_contacts(engine: Engine, command: str) -> None:
    state = talk(engine, "je suis à Guéret")[0].state
    (result,) = talk(engine, command, state=state)
    assert result.action == "contacts"
    assert result.contacts
    assert all(c.name in result.reply for c in result.contacts)
    assert result.state.departement == "23"
    assert result.state.oriented


@pytest.mark.parametrize("command", ["fiche", SEE_FICHE, "/fiche"])
def test_fiche_command(engine: Engine, command: str) -> None:
    state = _oriented_state(engine)
    (result,) = talk(engine, command, state=state)
    assert result.action == "fiche"
    assert result.state == state


@pytest.mark.parametrize("command", ["oubli", "/oubli", "effacer mes données"])
def test_forget_command(engine: Engine, command: str) -> None:
    (result,) = talk(engine, command, state=_oriented_state(engine))
    assert result.action == "forget"
    assert result.state == DiagnosticState()
    assert result.reply == engine.script.messages.forgotten


def test_a_command_word_inside_a_sentence_is_not_a_command(engine: Engine) -> None:
    (result,) = talk(engine, "je voudrais recommencer ma vie dans une ferme à Tulle")
    assert result.action == "reply"
    assert result.state.departement == "19"


def test_empty_message_changes_nothing(engine: Engine) -> None:
    state = talk(engine, "je suis à Guéret")[0].state
    (result,) = talk(engine, "   ", state=state)
    assert result.state == state
    assert engine.script.messages.not_understood in result.reply


def test_resume_repeats_the_pending_question(engine: Engine) -> None:
    state = talk(engine, "je suis à Guéret")[0].state
    result = engine.greeting(state)
    assert result.reply.startswith(engine.script.messages.resume)
    assert result.reply.endswith(question(engine, "profile"))
    assert result.quick_replies == labels(engine, "profile")


def test_adviser_for_a_client(engine: Engine) -> None:
    (result,) = talk(
        engine,
        "Je suis conseillère BGE, ma cliente veut ouvrir une épicerie solidaire à Tulle",
    )
    assert result.state.speaking_for_client
    assert result.state.departement == "19"
    assert "mentorat" not in result.state.needs


def test_engine_is_pure(engine: Engine) -> None:
    state = talk(engine, "je suis à Guéret")[0].state
    snapshot = state.model_copy(deep=True)
    talk(engine, "Une association", "ah non, c'est à Limoges", state=state)
    assert state == snapshot


def test_an_ambiguous_correction_keeps_the_commune_of_the_same_departement(
    runtime: Runtime,
) -> None:
    engine = runtime.engine
    state = engine.handle(DiagnosticState(), "on est un collectif près de Saint-Flour").state
    assert state.departement == "15"
    corrected = engine.handle(state, "ah non pardon c'est à Murat").state
    # Murat exists in the Cantal (15) and the Allier (03): the nearby one is meant.
    assert corrected.commune == "Murat"
    assert corrected.departement == "15"
    assert corrected.territory_candidates == []


def test_free_questions_pass_earlier_questions_as_history(runtime: Runtime) -> None:
    """A rewriting answerer (the LLM one) gets the user's earlier questions."""
    from collections.abc import Sequence

    from assistant.answers.answering import Answer, Answerer
    from assistant.search.base import SearchFilter

    seen: list[tuple[str, tuple[str, ...]]] = []

    class SpyAnswerer(Answerer):
        def answer(
            self,
            question: str,
            search_filter: SearchFilter | None = None,
            history: Sequence[str] = (),
        ) -> Answer:
            seen.append((question, tuple(history)))
            return super().answer(question, search_filter, history)

    base = runtime.answerer
    spy = SpyAnswerer(base.retriever, base.cards, base.composer, base.policy, base.entry_points)
    engine = Engine(
        script=runtime.script,
        extractor=runtime.engine.extractor,
        orientation=runtime.orientation,
        answerer=lambda: spy,
        composer=runtime.composer,
        territories=runtime.territories,
    )
    state = engine.handle(DiagnosticState(), "C'est quoi une Scop ?").state
    engine.handle(state, "et une Scic, c'est quoi ?")
    assert seen == [
        ("C'est quoi une Scop ?", ()),
        ("et une Scic, c'est quoi ?", ("C'est quoi une Scop ?",)),
    ]


def test_a_failing_index_is_logged_and_the_diagnostic_goes_on(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.errors import IndexNotBuiltError
    from assistant.search.base import Hit, SearchFilter

    class BrokenRetriever:
        def search(
            self, query: str, k: int = 5, search_filter: SearchFilter | None = None
        ) -> list[Hit]:
            raise IndexNotBuiltError("no index")

        def term_weight(self, term: str) -> float:
            return 1.0

        def is_current(self, index_dir: object) -> bool:
            return True

    broken = Runtime(runtime.settings, embedder=runtime.embedder, retriever=BrokenRetriever())
    with caplog.at_level("WARNING", logger="assistant.dialogue.engine"):
        turn = broken.engine.handle(DiagnosticState(), "c'est quoi une Scic ?")
    assert "IndexNotBuiltError" in caplog.text
    assert not turn.sources and turn.parts[-1].type == "question"


def test_an_existing_structure_that_opens_something_is_developing(engine: Engine) -> None:
    turns = talk(
        engine,
        "Notre Scic de livraison à vélo tourne à Rennes depuis quatre ans",
        "on voudrait lancer une activité de réparation",
    )
    assert turns[0].state.stage == "consolidation"
    evidence = turns[-1].state.evidence["stage"]
    # "lancer" from a structure that exists is read as development, not creation
    assert "creation" not in evidence and evidence["developpement"] > 0


def test_an_employing_association_without_employees_any_more_is_an_association(
    engine: Engine,
) -> None:
    turns = talk(
        engine,
        "Asso d'éducation à l'environnement à Foix, on a 2 salariés",
        "ah non pardon, plus personne de payé depuis janvier, que des bénévoles",
    )
    assert turns[0].state.profile == "association-employeuse"
    assert turns[-1].state.profile == "association"


def test_a_plan_made_real_later_gives_the_form(engine: Engine) -> None:
    state = engine.handle(DiagnosticState(), "on veut créer une asso d'entraide à Poitiers").state
    assert state.profile == "collectif"  # a plan is not the present
    state = engine.handle(state, "enfin les statuts sont déposés, l'asso existe déjà").state
    assert state.profile == "association"


def test_a_plan_for_next_month_stays_a_plan(engine: Engine) -> None:
    state = engine.handle(DiagnosticState(), "nous sommes 6 à monter une SCIC à Seynod").state
    state = engine.handle(state, "les statuts sont presque prêts, on immatricule le mois prochain")
    assert state.state.profile == "collectif"


def test_a_story_that_ends_with_a_question_gets_no_empty_decline(engine: Engine) -> None:
    nothing = "Je n'ai pas trouvé de réponse fiable"
    story = engine.handle(
        DiagnosticState(),
        "on est 4 voisines a Felletin, on veut ouvrir une epicerie solidaire, c possible ?",
    )
    assert story.state.departement == "23"
    assert nothing not in story.reply
    # a question alone still hears that no card answers it
    alone = engine.handle(DiagnosticState(), "quelle est la capitale du Pérou ?")
    assert nothing in alone.reply
    # and a limit still says who can answer, story or not
    limited = engine.handle(
        DiagnosticState(), "je suis à Guéret, je touche le RSA, je vais perdre combien ?"
    )
    assert "situation personnelle" in limited.reply


def test_contacts_shown_before_are_named_not_repeated(engine: Engine) -> None:
    # Met as a user: every message after the orientation repeated five contacts in full.
    first, later = talk(
        engine,
        "je préside une asso à Guéret, on a 4 salariés, on cherche un financement",
        "on aurait aussi besoin d'aide pour recruter",
    )
    assert first.contacts and later.contacts  # the API keeps the whole orientation
    shown_first = {c.id for c in first.contacts}
    (part,) = [p for p in later.parts if isinstance(p, ContactsPart)]
    assert set(part.already_shown) == shown_first & {c.id for c in later.contacts}
    assert part.already_shown and all(c.id not in part.already_shown for c in part.fresh())
    again = [c for c in later.contacts if c.id in part.already_shown]
    assert all(c.name in part.again for c in again)
    assert all(c.how_to_reach not in later.reply for c in again)
    assert engine.script.messages.ready not in later.reply  # said once, the first time
    # The contacts button shows every contact in full again.
    (button,) = talk(engine, SEE_CONTACTS, state=later.state)
    (full,) = [p for p in button.parts if isinstance(p, ContactsPart)]
    assert full.already_shown == [] and all(c.how_to_reach in button.reply for c in button.contacts)


def test_a_need_said_after_the_contacts_names_those_that_help_with_it(engine: Engine) -> None:
    # Met as a user: a financing need said after the contacts only heard « Les contacts
    # proposés plus haut restent les bons », with no word of which one finances.
    state = DiagnosticState(
        stage="emergence", profile="collectif", needs=["local", "financement"], departement="19"
    )
    result = engine.orientation_for(state)
    shown = [c.id for c in result.contacts]
    helping = [c for c in result.contacts if "financement" in c.needs]
    others = [c for c in result.contacts if "financement" not in c.needs]
    assert helping and others
    (part,) = [
        p
        for p in engine.writer.orientation(result, [], shown, new_needs=["financement"])
        if isinstance(p, ContactsPart)
    ]
    assert not part.fresh()
    assert part.title.startswith("Pour « financement »")
    first, _, rest = part.again.partition(" Toujours valables aussi : ")
    assert all(c.name in first for c in helping) and all(c.name in rest for c in others)
    # without a need said in the turn, the plain sentence
    (plain,) = [
        p for p in engine.writer.orientation(result, [], shown) if isinstance(p, ContactsPart)
    ]
    assert plain.title == "Les contacts proposés plus haut restent les bons :"


def test_after_the_contacts_a_message_that_changes_nothing_gets_a_reply(engine: Engine) -> None:
    # Met as a user: a need said again after the contacts got an empty reply (buttons only).
    *_, again = talk(
        engine,
        "je préside une asso à Guéret, on a 4 salariés, on cherche un financement",
        "on cherche un financement",
    )
    assert again.reply.strip()
    assert engine.script.messages.nothing_new in again.reply
    assert again.quick_replies  # the contacts, the fiche, start again
