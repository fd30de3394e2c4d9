"""The curator's document commands (`aiguillage knowledge add / remove / documents / draft`):
thin wiring over assistant.documents, registered on the `knowledge` group by main.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assistant.errors import AiguillageError
from assistant.runtime import Runtime
from assistant.settings import Settings
from connectors.cli.commands import build_index, err, fail


def register(knowledge_app: typer.Typer) -> None:
    knowledge_app.command("add")(knowledge_add)
    knowledge_app.command("remove")(knowledge_remove)
    knowledge_app.command("documents")(knowledge_documents)
    knowledge_app.command("draft")(knowledge_draft)


def knowledge_add(
    path: Annotated[Path, typer.Argument(help="Le fichier : PDF, page HTML ou Markdown.")],
    url: Annotated[str | None, typer.Option(help="L'adresse publique du document.")] = None,
    title: Annotated[str | None, typer.Option(help="Le titre cité.")] = None,
    publisher: Annotated[str | None, typer.Option(help="L'éditeur (organisme auteur).")] = None,
    date: Annotated[str | None, typer.Option(help="Date du document, AAAA-MM-JJ.")] = None,
    licence: Annotated[
        str | None, typer.Option(help="Licence ou droit de reprise (ex. « Licence Ouverte 2.0 »).")
    ] = None,
) -> None:
    """Ajouter ou mettre à jour un document (PDF, HTML, Markdown) et l'indexer."""
    from assistant.documents import DocumentInfo, DocumentStore, add_document, parse_date

    runtime = Runtime()
    settings = runtime.settings
    try:
        info = DocumentInfo(
            url=url, title=title, publisher=publisher, date=parse_date(date), licence=licence
        )
        result = add_document(
            DocumentStore(settings.documents_dir),
            path,
            info,
            max_bytes=int(settings.max_document_mb * 1_000_000),
        )
        record = result.record
        out = Console(highlight=False, soft_wrap=True)
        verb = {"added": "ajouté", "updated": "mis à jour", "unchanged": "déjà à jour"}
        where = "pages" if record.format == "pdf" else "sections"
        out.print(
            f"Document {verb[result.status]} : {record.id} — {record.title} "
            f"({len(record.segments)} {where}, {settings.documents_dir / (record.id + '.md')}).",
            markup=False,
        )
        labels = {"publisher": "l'éditeur (--publisher)", "date": "la date (--date)"}
        if result.missing:
            err.print(
                "Attention : précisez "
                + " et ".join(labels[m] for m in result.missing)
                + " : la référence citée dans les réponses les montre.",
                markup=False,
            )
        build_index(runtime)
    except AiguillageError as exc:
        raise fail(exc) from exc


def knowledge_remove(
    doc_id: Annotated[str, typer.Argument(metavar="ID", help="L'identifiant du document.")],
) -> None:
    """Retirer un document de la base et de l'index."""
    from assistant.documents import DocumentStore

    runtime = Runtime()
    try:
        record = DocumentStore(runtime.settings.documents_dir).remove(doc_id)
        Console(highlight=False).print(
            f"Document retiré : {record.id} — {record.title}.", markup=False
        )
        build_index(runtime)
    except AiguillageError as exc:
        raise fail(exc) from exc


def knowledge_documents() -> None:
    """Lister les documents ajoutés (identifiant, titre, éditeur, date, licence)."""
    from assistant.documents import DocumentStore

    try:
        records = DocumentStore(Settings().documents_dir).all()
    except AiguillageError as exc:
        raise fail(exc) from exc
    out = Console(highlight=False)
    if not records:
        out.print("Aucun document : ajoutez-en avec « aiguillage knowledge add FICHIER ».")
    for r in records:
        when = r.date.isoformat() if r.date else "sans date"
        out.print(
            f"{r.id} — {r.title} ; {r.publisher or 'éditeur non précisé'}, {when} ; "
            f"licence : {r.licence} ; origine : {r.origin}",
            markup=False,
        )


def knowledge_draft(
    doc_id: Annotated[str, typer.Argument(metavar="DOC_ID", help="L'identifiant du document.")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Dossier des brouillons (défaut : documents/drafts/DOC_ID)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Remplacer les brouillons existants.")] = False,
) -> None:
    """Écrire des squelettes de fiches (faits et chiffres relevés, avec leur page)."""
    from assistant.documents import DocumentStore, draft_cards, write_drafts

    settings = Settings()
    try:
        record = DocumentStore(settings.documents_dir).get(doc_id)
    except AiguillageError as exc:
        raise fail(exc) from exc
    drafts = draft_cards(record)
    out = Console(highlight=False)
    if not drafts:
        out.print(f"Aucun fait chiffré relevé dans {doc_id} : pas de brouillon écrit.")
        return
    target = out_dir or settings.documents_dir / "drafts" / doc_id
    written, kept = write_drafts(drafts, target, overwrite=force)
    for path in written:
        out.print(f"Brouillon écrit : {path}", markup=False)
    for path in kept:
        out.print(f"Brouillon existant conservé (--force pour le remplacer) : {path}", markup=False)
    out.print(
        "À compléter, à réécrire avec vos mots, puis à déplacer dans knowledge/cards/ et à "
        "vérifier avec « aiguillage knowledge validate »."
    )
