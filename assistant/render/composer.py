"""Renders replies from the Jinja2 templates in `prompts/` (data a curator can edit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined


class Composer:
    """Deterministic reply composer: one template per kind of reply."""

    def __init__(self, prompts_dir: Path) -> None:
        self._env = Environment(
            loader=FileSystemLoader(str(prompts_dir)),
            undefined=StrictUndefined,  # a typo in a template fails loudly, not silently
            autoescape=False,  # plain text / Markdown; channels escape for their medium
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._html_env = Environment(
            loader=FileSystemLoader(str(prompts_dir)),
            undefined=StrictUndefined,
            autoescape=True,
        )

    def render_html(self, template: str, **context: Any) -> str:
        """Render an HTML template with autoescaping: user and knowledge text is escaped."""
        return self._html_env.get_template(template).render(**context)

    def render_block(self, template: str, block: str, **context: Any) -> str:
        """One named block of a template (e.g. the `title` of `parts/contacts.md.j2`)."""
        compiled = self._env.get_template(template)
        return "".join(compiled.blocks[block](compiled.new_context(context))).strip()

    def render(self, template: str, **context: Any) -> str:
        text = self._env.get_template(template).render(**context)
        # Templates stay readable with blank lines; replies should not carry runs of them.
        lines = [line.rstrip() for line in text.strip().splitlines()]
        compact: list[str] = []
        for line in lines:
            if line or (compact and compact[-1]):
                compact.append(line)
        return "\n".join(compact)
