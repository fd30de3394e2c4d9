"""The `aiguillage` command line (typer). Thin: parses options, calls the core, prints."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from assistant.errors import AiguillageError
from assistant.runtime import Runtime
from assistant.search.progress import Progress as ProgressSeam
from assistant.settings import Settings

app = typer.Typer(
    help="Aiguillage : l'assistant qui oriente les projets de l'ESS vers le bon accompagnement.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
knowledge_app = typer.Typer(help="Vérifier et explorer la base de connaissances.")
app.add_typer(knowledge_app, name="knowledge")

err = Console(stderr=True)


class RichProgress(ProgressSeam):
    """Adapts the index builder's progress seam to a rich progress bar on stderr."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def start(self, total: int, description: str) -> None:
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)


def fail(exc: AiguillageError) -> typer.Exit:
    err.print(f"[red]Erreur :[/red] {exc}")
    return typer.Exit(code=2)


LLMOption = Annotated[
    bool | None,
    typer.Option(
        "--llm/--no-llm",
        help="Pour cette commande : utiliser le modèle de langage configuré, ou s'en passer "
        "(par défaut : selon AIGUILLAGE_LLM_PROVIDER).",
    ),
]


def _settings_for(llm: bool | None) -> Settings:
    """Settings from the environment, with the LLM mode forced on or off for one run."""
    settings = Settings()
    if llm is None:
        return settings
    if llm and settings.llm_provider == "none":
        err.print(
            "[red]Erreur :[/red] --llm demandé, mais aucun modèle de langage n'est configuré. "
            "Définissez AIGUILLAGE_LLM_PROVIDER (openai-compatible ou ollama), "
            "AIGUILLAGE_LLM_MODEL et AIGUILLAGE_LLM_BASE_URL, puis vérifiez avec "
            "`aiguillage doctor`."
        )
        raise typer.Exit(code=2)
    return settings if llm else settings.model_copy(update={"llm_provider": "none"})


def build_index(runtime: Runtime, force: bool = False, quiet: bool = False) -> None:
    from assistant.documents import load_passage_sets
    from assistant.search.cards import load_cards
    from assistant.search.index import IndexBuilder  # ChromaDB, bm25s: only when building

    settings = runtime.settings
    cards = load_cards(settings.cards_dir)
    documents = load_passage_sets(settings.documents_dir)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        report = IndexBuilder(settings.index_dir, runtime.embedder, settings.chroma_url).build(
            cards, RichProgress(bar), force=force, documents=documents
        )
    if runtime.semantic is not None:
        # The diagnostic's examples are embedded, and its description classifiers trained, with
        # the index, not on a first message.
        runtime.semantic.warm()
    if runtime.meaning_declines is not None:
        runtime.meaning_declines.warm()  # the decline classifier too (declines.yaml)
    if not report.changed:
        if not quiet:
            in_documents = f", {len(documents)} document(s)" if documents else ""
            err.print(
                f"Index à jour ({report.chunks_total} passages, {len(cards)} fiches{in_documents})."
            )
        return
    err.print(
        f"Index reconstruit : {len(report.added)} fiche(s) ou document(s) ajouté(s), "
        f"{len(report.updated)} modifié(s), {len(report.removed)} supprimé(s) ; "
        f"{report.chunks_embedded} passage(s) vectorisé(s) sur {report.chunks_total} "
        f"en {report.seconds:.1f} s."
    )


def ensure_index(runtime: Runtime) -> None:
    """Bring the index up to date with the cards (incremental: cheap when nothing changed),
    so an edited card is never answered from a stale index."""
    from assistant.search.index import current_generation

    if current_generation(runtime.settings.index_dir) is None:
        err.print("Première utilisation : construction de l'index de recherche…")
    build_index(runtime, quiet=True)


@app.command()
def index(
    force: Annotated[bool, typer.Option(help="Tout recalculer, sans rien réutiliser.")] = False,
) -> None:
    """Construire ou mettre à jour l'index de recherche (incrémental)."""
    try:
        build_index(Runtime(), force=force)
    except AiguillageError as exc:
        raise fail(exc) from exc


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="La question, en français.")],
    as_json: Annotated[bool, typer.Option("--json", help="Une réponse JSON sur stdout.")] = False,
    llm: LLMOption = None,
) -> None:
    """Poser une question et obtenir une réponse sourcée."""
    if not question.strip():
        err.print("[red]Erreur :[/red] la question est vide.")
        raise typer.Exit(code=2)
    runtime = Runtime(_settings_for(llm))
    try:
        ensure_index(runtime)
        answer = runtime.answerer.answer(question)
    except AiguillageError as exc:
        raise fail(exc) from exc
    if as_json:
        payload = answer.model_dump(mode="json")
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(answer.answer + "\n")


@knowledge_app.command("validate")
def knowledge_validate(
    strict: Annotated[
        bool, typer.Option(help="Les avertissements comptent comme erreurs.")
    ] = False,
) -> None:
    """Vérifier fiches et annuaire : schémas, doublons, références, dates, contacts."""
    from assistant.curation.validation import validate_data_files, validate_knowledge

    settings = Settings()
    runtime = Runtime(settings)
    territories = runtime.territories
    report = validate_knowledge(
        settings.knowledge_dir,
        sources_dir=settings.sources_dir,
        known_departements=set(territories.departement_codes),
        known_regions=set(territories.region_codes),
        stale_after_days=settings.stale_after_days,
    )
    if not report.errors:  # the data files refer to cards and structures: check those first
        report.problems.extend(
            validate_data_files(
                settings.knowledge_dir,
                settings.prompts_dir,
                set(runtime.cards),
                set(runtime.structures),
            )
        )
    for problem in report.problems:
        colour = "red" if problem.level == "error" else "yellow"
        err.print(
            f"[{colour}]{problem.level.upper()}[/{colour}] {problem.where}: {problem.message}",
            highlight=False,
        )
    failed = bool(report.errors) or (strict and bool(report.warnings))
    summary = (
        f"{report.cards} fiches, {report.structures} structures"
        f"{f', {report.documents} document(s)' if report.documents else ''} : "
        f"{len(report.errors)} erreur(s), {len(report.warnings)} avertissement(s)."
    )
    err.print(f"[{'red' if failed else 'green'}]{summary}[/]")
    raise typer.Exit(code=1 if failed else 0)


@knowledge_app.command("coverage")
def knowledge_coverage(
    as_json: Annotated[bool, typer.Option("--json", help="Rapport JSON sur stdout.")] = False,
    worst: Annotated[int, typer.Option(help="Nombre de départements listés.")] = 15,
) -> None:
    """Où manque-t-il un contact local ? Départements × étapes × besoins sans structure."""
    from assistant.curation.coverage import coverage_report

    runtime = Runtime()
    report = coverage_report(runtime.structures.values(), runtime.territories)
    if as_json:
        payload = report.model_dump(mode="json") | {"share_covered": report.share_covered}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    out = Console(highlight=False)
    out.print(
        f"Couples étape × besoin couverts localement : {report.covered_pairs}/"
        f"{report.total_pairs} ({report.share_covered:.0%}), sur "
        f"{len(report.departements)} départements."
    )
    for row in sorted(report.departements, key=lambda r: (-r.holes, r.departement))[:worst]:
        stages = ", ".join(row.missing_stages) or "—"
        needs = ", ".join(row.missing_needs) or "—"
        out.print(
            f"{row.departement} {row.name} : {row.local_entries} structure(s) locale(s), "
            f"{row.holes} trou(s) ; étapes sans contact : {stages} ; besoins sans contact : {needs}"
        )


@knowledge_app.command("stale")
def knowledge_stale(
    limit: Annotated[int, typer.Option(help="Nombre d'éléments listés.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Liste JSON sur stdout.")] = False,
) -> None:
    """Ce qu'il faut revérifier, le plus ancien d'abord (date `reviewed` des fiches et de
    l'annuaire), avec les pages et documents à relire."""
    from assistant.curation.truth import review_list

    runtime = Runtime()
    settings = runtime.settings
    items = review_list(runtime.cards.values(), runtime.structures.values())
    cutoff = dt.date.today() - dt.timedelta(days=settings.stale_after_days)
    if as_json:
        rows = [
            {
                "what": i.what,
                "id": i.id,
                "reviewed": i.reviewed.isoformat() if i.reviewed else None,
                "stale": i.reviewed is None or i.reviewed < cutoff,
                "file": i.where,
                "recheck": i.recheck,
            }
            for i in items[:limit]
        ]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    out = Console(highlight=False)
    stale = sum(1 for i in items if i.reviewed is None or i.reviewed < cutoff)
    out.print(
        f"{len(items)} éléments ; {stale} à revoir (revus il y a plus de "
        f"{settings.stale_after_days} jours). Les plus anciens d'abord :"
    )
    for item in items[:limit]:
        when = item.reviewed.isoformat() if item.reviewed else "jamais"
        kind = "fiche" if item.what == "card" else "structure"
        out.print(f"{when}  {kind} {item.id}  ({item.where})")
        for source in item.recheck[:3]:
            out.print(f"    à relire : {source}")


@knowledge_app.command("unanswered")
def knowledge_unanswered(
    limit: Annotated[int, typer.Option(help="Nombre de questions listées.")] = 50,
) -> None:
    """Les questions restées sans réponse (sessions conservées), les plus récentes d'abord."""
    runtime = Runtime()
    entries = runtime.conversation.unanswered(limit)
    out = Console(highlight=False)
    if not entries:
        out.print("Aucune question sans réponse dans les sessions conservées.")
    for entry in entries:
        out.print(f"{entry.at:%Y-%m-%d} — ", end="")
        out.print(entry.text, markup=False)


scenarios_app = typer.Typer(help="Rejouer des scénarios de diagnostic (fichiers YAML).")
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.command("run")
def scenarios_run(
    paths: Annotated[list[Path], typer.Argument(help="Fichiers .yaml ou dossiers.")],
    as_json: Annotated[bool, typer.Option("--json", help="Résultat JSON sur stdout.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Montrer les échanges.")] = False,
    llm: LLMOption = None,
) -> None:
    """Rejouer des scénarios ; code de sortie 0 seulement si tous passent."""
    from assistant.dialogue.scenarios import run_all

    runtime = Runtime(_settings_for(llm))
    try:
        ensure_index(runtime)
        report = run_all(runtime.engine, paths)
    except AiguillageError as exc:
        raise fail(exc) from exc
    if as_json:
        payload = report.model_dump(mode="json")
        for scenario in payload["scenarios"]:
            scenario.pop("transcript", None)
            scenario.pop("path", None)
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        out = Console()
        for result in report.scenarios:
            mark = "[green]OK[/green]  " if result.passed else "[red]ÉCHEC[/red]"
            out.print(f"{mark} {result.name}  [dim]{result.path}[/dim]", highlight=False)
            for failure in result.failures:
                out.print(f"       - {failure}", highlight=False)
            if verbose:
                for said, reply in result.transcript:
                    out.print(f"       > {said}\n       {reply[:400]}", highlight=False)
        out.print(f"{report.passed} passed, {report.failed} failed")
    raise typer.Exit(code=0 if report.failed == 0 else 1)


def conseiller(
    description: Annotated[str, typer.Argument(help="La description du projet du client.")],
    as_json: Annotated[bool, typer.Option("--json", help="Le rapport JSON sur stdout.")] = False,
) -> None:
    """Mode conseiller : le projet relève-t-il de l'ESS, et vers qui l'orienter ?"""
    if not description.strip():
        err.print("[red]Erreur :[/red] la description est vide.")
        raise typer.Exit(code=2)
    try:
        report = Runtime().adviser.analyse(description)
    except AiguillageError as exc:
        raise fail(exc) from exc
    if as_json:
        sys.stdout.write(json.dumps(report.model_dump(mode="json"), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.text + "\n")


# French name first; "adviser" is the same command for English-speaking integrators.
app.command("conseiller")(conseiller)
app.command("adviser", hidden=True)(conseiller)


@app.command()
def doctor() -> None:
    """Dire quel mode est actif (déterministe ou modèle de langage) et vérifier le modèle."""
    from assistant.llm.chat import check_endpoint

    status = check_endpoint(Settings())
    out = Console(highlight=False)
    if status.mode == "deterministic":
        out.print("Mode : déterministe, hors ligne (AIGUILLAGE_LLM_PROVIDER=none).")
        return
    out.print(
        f"Mode : modèle de langage ({status.provider}, modèle {status.model or '?'}, "
        f"point d'accès {status.base_url or 'par défaut'})."
    )
    if status.ok:
        out.print(f"[green]OK[/green] le modèle répond ({status.latency_ms} ms).")
        return
    out.print(
        f"[red]ÉCHEC[/red] le modèle ne répond pas : {status.problem}. "
        "Les réponses utiliseront le mode déterministe."
    )
    raise typer.Exit(code=1)
