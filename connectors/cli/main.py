"""The `aiguillage` console script: the core commands of connectors.cli.commands, plus the commands
that start a channel (terminal, web, Telegram). Living here keeps dependencies one way:
connectors -> assistant, never the reverse."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from assistant.errors import AiguillageError
from assistant.runtime import Runtime
from assistant.search.embeddings import share_cores
from assistant.settings import Settings
from connectors.cli.commands import app, ensure_index, err, fail, knowledge_app
from connectors.cli.documents import register as register_documents

register_documents(knowledge_app)


@app.command()
def chat() -> None:
    """Tenir la conversation de diagnostic dans le terminal."""
    from connectors.terminal.channel import run_terminal

    runtime = Runtime()
    try:
        ensure_index(runtime)
        run_terminal(runtime.conversation)
    except AiguillageError as exc:
        raise fail(exc) from exc


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute (défaut 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (défaut 8000).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processus (plusieurs : AIGUILLAGE_CHROMA_URL requis).")
    ] = 1,
) -> None:
    """Lancer le chat web et l'API HTTP (et la route du webhook Telegram)."""
    import logging

    import uvicorn

    # Imported here: only this command needs FastAPI loaded.
    from connectors.web.app import RedactingAccessFilter, create_app

    settings = Settings()
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": port or settings.port}
    )
    if settings.test_mode_on and not settings.serves_locally and settings.test_token is None:
        err.print(
            "[red]Erreur :[/red] le mode test sur une adresse publique montre l'état des "
            "sessions : définissez AIGUILLAGE_TEST_TOKEN, ou AIGUILLAGE_TEST_MODE=false."
        )
        raise typer.Exit(code=2)
    if workers > 1 and not settings.chroma_url:
        err.print(
            "[red]Erreur :[/red] plusieurs processus ne peuvent pas partager la base de vecteurs "
            "intégrée : lancez un serveur Chroma (« chroma run ») et définissez "
            "AIGUILLAGE_CHROMA_URL, puis « aiguillage index »."
        )
        raise typer.Exit(code=2)
    runtime = Runtime(settings)
    try:
        ensure_index(runtime)
        runtime.conversation.store.count()  # the session database answers, before serving
        web = create_app(runtime)
    except AiguillageError as exc:
        raise fail(exc) from exc
    if workers > 1:
        share_cores(workers)
        # Each worker builds its own runtime from the environment, as this one was checked.
        os.environ["AIGUILLAGE_HOST"], os.environ["AIGUILLAGE_PORT"] = (
            settings.host,
            str(settings.port),
        )
        uvicorn.run(
            "connectors.web.app:app_from_environment",
            factory=True,
            workers=workers,
            host=settings.host,
            port=settings.port,
        )
        return
    logging.getLogger("uvicorn.access").addFilter(RedactingAccessFilter())
    uvicorn.run(web, host=settings.host, port=settings.port)


@app.command()
def telegram() -> None:
    """Faire tourner le bot Telegram (long polling) ; jeton dans AIGUILLAGE_TELEGRAM_TOKEN."""
    # Imported here: other commands need not load python-telegram-bot.
    from connectors.telegram.bot import TelegramStartError, run_polling

    settings = Settings()
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    if not token:
        err.print(
            "[red]Erreur :[/red] AIGUILLAGE_TELEGRAM_TOKEN n'est pas défini "
            "(le jeton donné par @BotFather)."
        )
        raise typer.Exit(code=2)
    runtime = Runtime(settings)
    try:
        ensure_index(runtime)
        _ = runtime.conversation  # load the core now: a broken corpus fails here, not per chat
    except AiguillageError as exc:
        raise fail(exc) from exc
    err.print("Bot Telegram démarré (long polling) ; Ctrl-C pour arrêter.")
    try:
        run_polling(runtime, token, settings.telegram_base_url)
    except TelegramStartError as exc:
        err.print(f"[red]Erreur :[/red] {exc}")
        raise typer.Exit(code=2 if exc.invalid_token else 1) from exc


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
