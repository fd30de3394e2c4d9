"""The terminal channel: `aiguillage chat`, quick replies numbered."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from assistant.dialogue.conversation import Conversation


def run_terminal(
    conversation: Conversation,
    read: Callable[[str], str] = input,
    console: Console | None = None,
) -> None:
    """Hold one conversation until the user leaves (Ctrl-D) or erases it ("oubli")."""
    out = console or Console(highlight=False)
    session_id, turn = conversation.start()
    out.print(
        "[dim]Tapez votre message ; un numéro choisit une réponse proposée ; "
        "« fiche », « recommencer », « oubli » ; Ctrl-D pour quitter.[/dim]"
    )
    while True:
        out.print("\n[bold]Aiguillage[/bold] : ", end="")
        out.print(turn.reply, markup=False)
        for number, label in enumerate(turn.quick_replies, start=1):
            out.print(f"  {number}. {label}", markup=False)
        if turn.action == "forget":
            return
        if turn.action == "fiche":
            out.print(conversation.fiche(session_id).markdown, markup=False)
        try:
            text = read("\nVous : ")
        except (EOFError, KeyboardInterrupt):
            out.print("\nÀ bientôt !")
            return
        if text.strip().isdigit() and 1 <= int(text) <= len(turn.quick_replies):
            text = turn.quick_replies[int(text) - 1]
        turn = conversation.send(session_id, text)
