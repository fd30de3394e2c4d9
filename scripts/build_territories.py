"""Build knowledge/territories/territories.json.gz from @etalab/decoupage-administratif.

Usage:
    python scripts/build_territories.py [PACKAGE_DIR] [--out PATH]

PACKAGE_DIR is the extracted npm package (the folder holding ``package.json`` and ``data/``).
Without it, the script runs ``npm pack @etalab/decoupage-administratif@6.0.0`` in a temporary
folder and extracts the tarball there.

Only the 101 départements (zone ``metro`` and ``drom``) are kept; the communes of the overseas
collectivities (zone ``com``: Saint-Pierre-et-Miquelon, Polynésie…) are left out because the
project's vocabulary has no code for them.

Output (gzip-compressed JSON, keys sorted, no timestamps so the build is reproducible):

    {
      "format": 1,
      "source": {"package": ..., "version": ..., "license": ..., "files": [...]},
      "regions": [[code, name], ...],
      "departements": [[code, name, region_code], ...],
      "communes": [[insee_code, name, departement, "postal codes space-separated", population]],
      "former": [[insee_code, name, parent_insee_code, kind, departement]],
      "arrondissements": [[insee_code, name, city_insee_code, "postal codes", population]],
      "old_codes": {old_insee_code: current_insee_code}
    }

``kind`` in ``former`` is ``"d"`` (commune déléguée) or ``"a"`` (commune associée). A commune's
region is its département's region.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
FILES = ("data/regions.json", "data/departements.json", "data/communes.json")
ZONES = ("metro", "drom")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "knowledge/territories/territories.json.gz"


def npm_pack(workdir: Path) -> Path:
    """Fetch the package tarball with ``npm pack`` and extract it; return the package dir."""
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tarballs = sorted(workdir.glob("*.tgz"))
    if not tarballs:
        raise SystemExit("npm pack produced no tarball")
    with tarfile.open(tarballs[0]) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package"


def _load(package_dir: Path, name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((package_dir / name).read_text(encoding="utf-8"))
    return data


def build(package_dir: Path) -> dict[str, Any]:
    """Turn the package's JSON files into the compact territory reference."""
    meta = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    if meta.get("version") != VERSION:
        print(f"warning: package version {meta.get('version')} != {VERSION}", file=sys.stderr)

    regions = [
        [r["code"], r["nom"]]
        for r in _load(package_dir, "data/regions.json")
        if r.get("zone") in ZONES
    ]
    departements = [
        [d["code"], d["nom"], d["region"]]
        for d in _load(package_dir, "data/departements.json")
        if d.get("zone") in ZONES
    ]
    dep_codes = {d[0] for d in departements}

    communes: list[list[Any]] = []
    former: list[list[Any]] = []
    arrondissements: list[list[Any]] = []
    old_codes: dict[str, str] = {}
    rows = [c for c in _load(package_dir, "data/communes.json") if c["departement"] in dep_codes]
    current = {c["code"] for c in rows if c["type"] == "commune-actuelle"}
    for c in rows:
        kind = c["type"]
        postal = " ".join(sorted(c.get("codesPostaux", [])))
        if kind == "commune-actuelle":
            communes.append([c["code"], c["nom"], c["departement"], postal, c.get("population", 0)])
            for old in c.get("anciensCodes", []):
                if old not in current:
                    old_codes[old] = c["code"]
        elif kind in ("commune-deleguee", "commune-associee"):
            parent = c["chefLieu"]
            if parent not in current:
                print(
                    f"warning: {c['nom']} ({c['code']}): parent {parent} unknown", file=sys.stderr
                )
                continue
            former.append([c["code"], c["nom"], parent, kind[8], c["departement"]])
        elif kind == "arrondissement-municipal":
            arrondissements.append(
                [c["code"], c["nom"], c["commune"], postal, c.get("population", 0)]
            )
    return {
        "format": 1,
        "source": {
            "package": PACKAGE,
            "version": meta.get("version", VERSION),
            "license": "MIT (code), Licence Ouverte (data) — Etalab",
            "files": list(FILES),
        },
        "regions": regions,
        "departements": departements,
        "communes": communes,
        "former": former,
        "arrondissements": arrondissements,
        "old_codes": dict(sorted(old_codes.items())),
    }


def write(data: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    with out.open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package_dir", nargs="?", type=Path, help="extracted npm package folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        package_dir = args.package_dir or npm_pack(Path(tmp))
        data = build(package_dir)
    write(data, args.out)
    counts = {k: len(data[k]) for k in ("regions", "departements", "communes", "former")}
    counts["communes_deleguees"] = sum(1 for f in data["former"] if f[3] == "d")
    counts["communes_associees"] = sum(1 for f in data["former"] if f[3] == "a")
    counts["arrondissements"] = len(data["arrondissements"])
    counts["old_codes"] = len(data["old_codes"])
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
