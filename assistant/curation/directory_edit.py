"""Apply an accepted correction to its directory entry, touching only the lines it changes.

The directory files are written by hand (comments, flow mappings, long quoted lines) or by a
dumper (folded plain scalars): a YAML round trip would reformat them. So the entry is edited
as text: an entry starts with `- ` at column 0, its keys sit at column 2; the corrected key's
lines are replaced, the page is added to `sources` (in the style of the items already there:
flow `{…}` or block), `reviewed` becomes today. Values are written as double-quoted JSON
strings (valid YAML). The result is parsed again and must be the old directory with exactly
this change, else nothing is written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from assistant.curation.corrections import CONTACT_FIELDS, Proposal
from assistant.errors import KnowledgeError
from assistant.orientation.directory import Structure, StructureSource, parse_directory_file

__all__ = ["AppliedCorrection", "apply_correction"]

_ENTRY = re.compile(r"^- ")
_KEY = re.compile(r"^(?:- |  )([a-z_]+):")
_ID = re.compile(r"""^- id:\s*["']?([a-z0-9][a-z0-9-]*)["']?\s*$""")


@dataclass(frozen=True)
class AppliedCorrection:
    path: Path
    structure: Structure  # the entry as it now reads


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _entry_span(lines: list[str], structure_id: str) -> tuple[int, int]:
    """First and past-the-end line of the entry (trailing blank and comment lines excluded)."""
    starts = [i for i, line in enumerate(lines) if _ENTRY.match(line)]
    for n, start in enumerate(starts):
        match = _ID.match(lines[start].rstrip("\n"))
        if match and match.group(1) == structure_id:
            end = starts[n + 1] if n + 1 < len(starts) else len(lines)
            return start, _trim(lines, start, end)
    raise KnowledgeError(f"{structure_id}: entry not found as '- id: {structure_id}' in its file")


def _trim(lines: list[str], start: int, end: int) -> int:
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip()[:1] == "#"):
        end -= 1
    return end


def _key_spans(lines: list[str], start: int, end: int) -> dict[str, tuple[int, int]]:
    heads = [(i, m.group(1)) for i in range(start, end) if (m := _KEY.match(lines[i]))]
    spans: dict[str, tuple[int, int]] = {}
    for n, (line, key) in enumerate(heads):
        stop = heads[n + 1][0] if n + 1 < len(heads) else end
        spans[key] = (line, _trim(lines, line, stop))
    return spans


def _source_lines(listed: list[str], url: str, title: str, today: str) -> list[str]:
    """The new source item, in the style of the first item already listed."""
    items = [line for line in listed if line.lstrip().startswith("- ")]
    dash = (items[0][: len(items[0]) - len(items[0].lstrip())] if items else "  ") + "- "
    if items and items[0].lstrip()[2:].startswith("{"):
        return [f"{dash}{{url: {_q(url)}, title: {_q(title)}, seen: {today}}}\n"]
    pad = " " * len(dash)
    return [f"{dash}url: {_q(url)}\n", f"{pad}title: {_q(title)}\n", f"{pad}seen: {today}\n"]


def _title(structure: Structure, proposal: Proposal, today: dt.date) -> str:
    """A page already cited keeps its title (it is seen again today); a new one says why."""
    for source in structure.sources:
        if source.url == proposal.page_url and source.title:
            return source.title
    return f"Correction signalée par la structure ({proposal.field}), acceptée le {today:%d/%m/%Y}"


def _drop_source(lines: list[str], span: tuple[int, int], url: str) -> list[str]:
    """The `sources` lines without the item that cites `url` (it comes back with today's date)."""
    body = lines[span[0] + 1 : span[1]]
    starts = [i for i, line in enumerate(body) if line.lstrip().startswith("- ")]
    kept: list[str] = []
    for n, first in enumerate(starts):
        item = body[first : starts[n + 1] if n + 1 < len(starts) else len(body)]
        if not any(url in line and ("url:" in line) for line in item):
            kept.extend(item)
    return [lines[span[0]], *kept]


def _new_text(structure: Structure, proposal: Proposal, lines: list[str], today: dt.date) -> str:
    start, end = _entry_span(lines, structure.id)
    spans = _key_spans(lines, start, end)
    if "sources" not in spans or "reviewed" not in spans:
        raise KnowledgeError(f"{structure.id}: entry without `sources` or `reviewed` lines")
    field, value = proposal.field, proposal.value
    replacements: dict[str, list[str]] = {}

    if field in CONTACT_FIELDS:
        contact = structure.contact.model_dump(exclude_none=True)
        contact[field] = value
        replacements["contact"] = ["  contact:\n"] + [
            f"    {k}: {_q(v)}\n" for k, v in contact.items()
        ]
    else:
        replacements[field] = [f"  {field}: {_q(value)}\n"]

    first, stop = spans["sources"]
    replacements["sources"] = _drop_source(lines, spans["sources"], proposal.page_url) + (
        _source_lines(
            lines[first + 1 : stop],
            proposal.page_url,
            _title(structure, proposal, today),
            today.isoformat(),
        )
    )
    replacements["reviewed"] = [f"  reviewed: {today.isoformat()}\n"]

    out = lines[:start]
    position = start
    ordered = sorted(spans.items(), key=lambda kv: kv[1][0])
    for key, (first, stop) in ordered:
        out.extend(lines[position:first])
        if key in replacements:
            new = replacements.pop(key)
            if first == start:  # the key on the "- " line keeps its dash
                new = ["- " + new[0][2:], *new[1:]]
            out.extend(new)
        else:
            out.extend(lines[first:stop])
        position = stop
    # A key the entry did not have yet goes just before `sources`.
    missing = [line for lines_ in replacements.values() for line in lines_]
    if missing:
        at = next(i for i, line in enumerate(out) if i >= start and line.startswith("  sources:"))
        out[at:at] = missing
    out.extend(lines[position:])
    return "".join(out)


def apply_correction(
    structures_dir: Path, structure: Structure, proposal: Proposal, today: dt.date
) -> AppliedCorrection:
    """Edit `structure`'s entry in its file; raises KnowledgeError (file untouched) if the
    edit cannot be made exactly."""
    path = structures_dir / structure.file
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    new_text = _new_text(structure, proposal, lines, today)

    before = {s.id: s for s in parse_directory_file(text, structure.file)}
    try:
        after = {s.id: s for s in parse_directory_file(new_text, structure.file)}
    except KnowledgeError as exc:
        raise KnowledgeError(f"{structure.id}: the corrected entry would not load: {exc}") from exc
    expected = _expected(before[structure.id], proposal, today)
    if after.keys() != before.keys() or any(
        after[key] != (expected if key == structure.id else before[key]) for key in before
    ):
        raise KnowledgeError(f"{structure.id}: the edit would change more than the correction")

    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as tmp:
        tmp.write(new_text)
    os.replace(tmp.name, path)
    return AppliedCorrection(path, after[structure.id])


def _expected(old: Structure, proposal: Proposal, today: dt.date) -> Structure:
    """The entry as it must read after the correction (what the text edit is checked against)."""
    data = old.model_dump()
    if proposal.field in CONTACT_FIELDS:
        data["contact"][proposal.field] = proposal.value
    else:
        data[proposal.field] = proposal.value
    sources = [s for s in old.sources if s.url != proposal.page_url]
    sources.append(
        StructureSource(url=proposal.page_url, title=_title(old, proposal, today), seen=today)
    )
    data["sources"] = [s.model_dump() for s in sources]
    data["reviewed"] = today
    return Structure.model_validate(data)
