"""Validate the people/adviser development set (tests/devsets).

Run from the repository root:  .venv/bin/python tests/devsets/validate.py
Checks: YAML parses; keys and values belong to the PRODUCT.md vocabulary; each departement
exists and its region matches the territory data; [dla] only for an employing profile at
consolidation; each place listed below is named in the text and is a real commune (or
former commune, postal code, département name) of the département given beside it; the
expected departement is one of the places named. Prints counts; exits 1 on any error.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from assistant import vocabulary

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TERRITORIES = ROOT / "knowledge" / "territories" / "territories.json.gz"

REGISTERS = {
    "sms",
    "dictee",
    "typos",
    "non-natif",
    "recit",
    "court",
    "regional",
    "correction",
    "standard",
    "indirect",
}
# The PRODUCT.md vocabulary, as the assistant declares it.
STAGES = set(vocabulary.STAGES)
PROFILES = set(vocabulary.PROFILES)
NEEDS = set(vocabulary.NEEDS)
KINDS = set(vocabulary.STRUCTURE_KINDS)
VERDICTS = {"ess", "ess-compatible", "hors-ess", "a-preciser"}
EMPLOYING = {"association-employeuse", "siae", "scop-scic", "entreprise"}
EXPECT_KEYS = {
    "stage",
    "profile",
    "needs_include",
    "departement",
    "region",
    "contacts_include_kinds",
    "contacts_exclude_kinds",
}

# Places named in each file: [as written, official name or postal code, département].
PLACES: dict[str, list[list[str]]] = {
    "q001": [["Échirolles", "Échirolles", "38"]],
    "q002": [["Dinan", "Dinan", "22"]],
    "q003": [
        ["Château-Gontier", "Château-Gontier", "53"],
        ["Nantes", "Nantes", "44"],
        ["Paris", "Paris", "75"],
    ],
    "q004": [["Mamoudzou", "Mamoudzou", "976"]],
    "q005": [["Nimes", "Nîmes", "30"]],
    "q006": [["Rennes", "Rennes", "35"]],
    "q007": [["Montmélian", "Montmélian", "73"]],
    "q008": [["Bagnères-de-Bigorre", "Bagnères-de-Bigorre", "65"]],
    "q009": [["Abbeville", "Abbeville", "80"]],
    "q010": [["97400", "97400", "974"]],
    "q011": [["Tourcoing", "Tourcoing", "59"]],
    "q012": [["François", "Le François", "972"]],
    "q013": [["Bastia", "Bastia", "2B"]],
    "q014": [["Chambéry", "Chambéry", "73"]],
    "q015": [["Ajaccio", "Ajaccio", "2A"]],
    "q016": [["Mirecourt", "Mirecourt", "88"]],
    "q017": [["Douai", "Douai", "59"]],
    "q018": [["Privas", "Privas", "07"]],
    "q019": [["Saint-Étienne", "Saint-Étienne", "42"]],
    "q020": [["Figeac", "Figeac", "46"]],
    "q021": [["Mulhouse", "Mulhouse", "68"]],
    "q022": [
        ["Thionville", "Thionville", "57"],
        ["Moselle", "Moselle", "57"],
        ["Haute-Savoie", "Haute-Savoie", "74"],
    ],
    "q023": [["Auch", "Auch", "32"]],
    "q024": [["Brest", "Brest", "29"]],
    "q025": [["Corti", "Corte", "2B"]],
    "q026": [["Vitré", "Vitré", "35"]],
    "q027": [["Die", "Die", "26"], ["Drôme", "Drôme", "26"]],
    "q028": [["Capesterre-Belle-Eau", "Capesterre-Belle-Eau", "971"]],
    "q029": [["Nantes", "Nantes", "44"], ["Angers", "Angers", "49"]],
    "q030": [["Aurillac", "Aurillac", "15"]],
    "q031": [["Villeneuve d'Ascq", "Villeneuve-d'Ascq", "59"]],
    "q032": [["Bourges", "Bourges", "18"]],
    "q033": [["Tarn", "Tarn", "81"]],
    "q034": [["Narbonne", "Narbonne", "11"]],
    "q035": [["Paris", "Paris", "75"]],
    "q036": [["Orléans", "Orléans", "45"]],
    "q037": [["Hayange", "Hayange", "57"]],
    "q038": [["Lisieux", "Lisieux", "14"]],
    "q039": [["Bourganeuf", "Bourganeuf", "23"]],
    "q040": [["Laval", "Laval", "53"]],
    "q041": [["Montreuil", "Montreuil", "93"], ["Seine-Saint-Denis", "Seine-Saint-Denis", "93"]],
    "q042": [["Clermont Ferand", "Clermont-Ferrand", "63"]],
    "q043": [["Moissac", "Moissac", "82"]],
    "q044": [["Saint-Flour", "Saint-Flour", "15"]],
    "q045": [["Beauvais", "Beauvais", "60"]],
    "q046": [["Saumur", "Saumur", "49"]],
    "q047": [["Poitiers", "Poitiers", "86"]],
    "q048": [["Dijon", "Dijon", "21"]],
    "q049": [["Villeneuve-sur-Lot", "Villeneuve-sur-Lot", "47"]],
    "q050": [["49100", "49100", "49"]],
    "q051": [["Toulouse", "Toulouse", "31"]],
    "q052": [["Berck", "Berck", "62"], ["Montreuil-sur-Mer", "Montreuil-sur-Mer", "62"]],
    "q053": [
        ["Chinon", "Chinon", "37"],
        ["Bourgueil", "Bourgueil", "37"],
        ["Loudun", "Loudun", "86"],
    ],
    "q054": [["Nanterre", "Nanterre", "92"]],
    "q055": [["Argentat", "Argentat", "19"], ["Corrèze", "Corrèze", "19"]],
    "q056": [["Nice", "Nice", "06"]],
    "q057": [["Lozère", "Lozère", "48"]],
    "q058": [["Cayenne", "Cayenne", "973"], ["Guyane", "Guyane", "973"]],
    "q059": [["Reims", "Reims", "51"]],
    "q060": [["Romorantin", "Romorantin-Lanthenay", "41"]],
    "q061": [["Guingamp", "Guingamp", "22"]],
    "q062": [["Marseille", "Marseille", "13"]],
    "q063": [["Pau", "Pau", "64"]],
    "q064": [["Niort", "Niort", "79"], ["La Rochelle", "La Rochelle", "17"]],
    "q065": [["Givet", "Givet", "08"]],
    "q066": [["Conques", "Conques", "12"]],
    "q067": [["Lans-en-Vercors", "Lans-en-Vercors", "38"]],
    "q068": [["Treignac", "Treignac", "19"]],
    "q069": [["Saint-Lô", "Saint-Lô", "50"]],
    "q070": [["Sélestat", "Sélestat", "67"]],
    "q071": [["Limoges", "Limoges", "87"]],
    "q072": [["Chateau-Chinon", "Château-Chinon (Ville)", "58"], ["Nievre", "Nièvre", "58"]],
    "q073": [["Saint-Louis", "Saint-Louis", "974"]],
    "q074": [
        ["Valence d'Agen", "Valence", "82"],
        ["Tarn-et-Garonne", "Tarn-et-Garonne", "82"],
        ["Drôme", "Drôme", "26"],
    ],
    "q075": [["Saint-Affrique", "Saint-Affrique", "12"]],
    "q076": [["Verdun", "Verdun", "55"], ["Meuse", "Meuse", "55"]],
    "q077": [["Bordeaux", "Bordeaux", "33"], ["Gironde", "Gironde", "33"]],
    "q078": [["Yssingeaux", "Yssingeaux", "43"]],
    "q079": [["Villeurbanne", "Villeurbanne", "69"]],
    "q080": [["Albi", "Albi", "81"]],
    "q081": [["Mauriac", "Mauriac", "15"], ["Cantal", "Cantal", "15"], ["Lyon", "Lyon", "69"]],
    "q082": [["Melun", "Melun", "77"]],
    "q083": [["Dieppe", "Dieppe", "76"]],
    "q084": [["Bourg-en-Bresse", "Bourg-en-Bresse", "01"], ["Ain", "Ain", "01"]],
    "q085": [["Argenteuil", "Argenteuil", "95"]],
    "q086": [["Saint-Gaudens", "Saint-Gaudens", "31"]],
    "q087": [["Flers", "Flers", "61"], ["Orne", "Orne", "61"]],
    "q088": [["Belfort", "Belfort", "90"]],
    "q089": [["Plouguerneau", "Plouguerneau", "29"]],
    "q090": [
        ["Gers", "Gers", "32"],
        ["Hautes-Pyrénées", "Hautes-Pyrénées", "65"],
        ["Lot-et-Garonne", "Lot-et-Garonne", "47"],
    ],
    "q091": [["Saint-Denis", "Saint-Denis", "974"]],
    "q092": [["Annemasse", "Annemasse", "74"]],
    "q093": [["Langres", "Langres", "52"]],
    "q094": [["Gap", "Gap", "05"], ["Hautes-Alpes", "Hautes-Alpes", "05"]],
    "q095": [["Troyes", "Troyes", "10"]],
    "q096": [["Ornans", "Ornans", "25"]],
    "q097": [["Draguignan", "Draguignan", "83"]],
    "q098": [["Lons-le-Saunier", "Lons-le-Saunier", "39"]],
    "q099": [["la fleche", "La Flèche", "72"]],
    "q100": [["Nancy", "Nancy", "54"]],
    "q101": [["Fort-de-France", "Fort-de-France", "972"]],
    "q102": [["Digne les bains", "Digne-les-Bains", "04"]],
    "q103": [["Nogent-le-Rotrou", "Nogent-le-Rotrou", "28"]],
    "q104": [["Haguenau", "Haguenau", "67"], ["Wissembourg", "Wissembourg", "67"]],
    "q105": [["Auxerre", "Auxerre", "89"]],
    "q106": [["Lorient", "Lorient", "56"]],
    "q107": [["Foix", "Foix", "09"], ["Ariège", "Ariège", "09"]],
    "q108": [
        ["Épinal", "Épinal", "88"],
        ["Épinay-sur-Orge", "Épinay-sur-Orge", "91"],
        ["Essonne", "Essonne", "91"],
    ],
    "q109": [["Chalon sur saone", "Chalon-sur-Saône", "71"]],
    "q110": [["Chateauroux", "Châteauroux", "36"]],
    "q111": [["Châtellerault", "Châtellerault", "86"]],
    "q112": [["Lodève", "Lodève", "34"]],
    "q113": [["Eymet", "Eymet", "24"], ["Dordogne", "Dordogne", "24"]],
    "q114": [["Saint-Georges-de-Didonne", "Saint-Georges-de-Didonne", "17"]],
    "q115": [["Dzaoudzi", "Dzaoudzi", "976"]],
    "q116": [["Cavaillon", "Cavaillon", "84"]],
    "q117": [["Lens", "Lens", "62"]],
    "q118": [["Poissy", "Poissy", "78"], ["Mantes-la-Jolie", "Mantes-la-Jolie", "78"]],
    "q119": [["Soissons", "Soissons", "02"]],
    "q120": [["Vierzon", "Vierzon", "18"]],
    "q121": [["Luçon", "Luçon", "85"]],
    "q122": [["Saint-Laurent-du-Maroni", "Saint-Laurent-du-Maroni", "973"]],
    "q123": [["Angoulême", "Angoulême", "16"]],
    "q124": [["Vesoul", "Vesoul", "70"]],
    "q125": [["Landes", "Landes", "40"]],
    "q126": [["Perpignan", "Perpignan", "66"]],
    "q127": [["Créteil", "Créteil", "94"]],
    "q128": [
        ["Grand-Bourg", "Grand-Bourg", "971"],
        ["Capesterre-de-Marie-Galante", "Capesterre-de-Marie-Galante", "971"],
    ],
    "q129": [["Montluçon", "Montluçon", "03"]],
    "q130": [["Evreux", "Évreux", "27"]],
}

# Places named in adviser.yaml, by item index (0-based).
ADVISER_PLACES: dict[int, list[list[str]]] = {
    0: [["Quimperlé", "Quimperlé", "29"]],
    1: [["Colmar", "Colmar", "68"]],
    2: [["Saint-Dié-des-Vosges", "Saint-Dié-des-Vosges", "88"]],
    3: [["Tarbes", "Tarbes", "65"], ["Lourdes", "Lourdes", "65"]],
    4: [["Montauban", "Montauban", "82"]],
    5: [["Pontivy", "Pontivy", "56"]],
    6: [["Angers", "Angers", "49"]],
    7: [["Montpellier", "Montpellier", "34"]],
    8: [["Creuse", "Creuse", "23"], ["Guéret", "Guéret", "23"]],
    9: [["Le Havre", "Le Havre", "76"]],
    10: [["Metz", "Metz", "57"]],
    11: [["Lille", "Lille", "59"]],
    12: [["Perpignan", "Perpignan", "66"]],
    13: [["Vallon-Pont-d'Arc", "Vallon-Pont-d'Arc", "07"], ["Ardèche", "Ardèche", "07"]],
    14: [["Aix-en-Provence", "Aix-en-Provence", "13"]],
    15: [["Rodez", "Rodez", "12"]],
    16: [["Vannes", "Vannes", "56"]],
    18: [["Tulle", "Tulle", "19"]],
    19: [["Périgueux", "Périgueux", "24"]],
}


def norm(text: str) -> str:
    """Accent-, case- and hyphen-insensitive form, so 'Chalon sur saone' matches."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


class Territory:
    def __init__(self) -> None:
        data = json.loads(gzip.decompress(TERRITORIES.read_bytes()))
        self.dep_region = {d[0]: d[2] for d in data["departements"]}
        self.regions = {r[0] for r in data["regions"]}
        self.names: dict[str, set[str]] = {}
        for _code, name, dep, postcodes, _pop in data["communes"]:
            self.names.setdefault(norm(name), set()).add(dep)
            for pc in str(postcodes).split():
                self.names.setdefault(pc, set()).add(dep)
        for _code, name, _new, _kind, dep in data["former"]:
            self.names.setdefault(norm(name), set()).add(dep)
        for code, name, _reg in data["departements"]:
            self.names.setdefault(norm(name), set()).add(code)

    def deps_of(self, official: str) -> set[str]:
        return self.names.get(official if official.isdigit() else norm(official), set())


def check_places(
    label: str,
    text: str,
    places: list[list[str]],
    dep: str | None,
    terr: Territory,
    errors: list[str],
) -> None:
    ntext = f" {norm(text)} "
    for written, official, pdep in places:
        if f" {norm(written)} " not in ntext:
            errors.append(f"{label}: place {written!r} is not in the text")
        if pdep not in terr.deps_of(official):
            errors.append(f"{label}: {official!r} is not a place of département {pdep}")
    if dep and places and dep not in {p[2] for p in places}:
        errors.append(f"{label}: departement {dep} matches none of the places named")
    if dep and not places:
        errors.append(f"{label}: departement {dep} but no place listed")


def check_person(
    path: Path,
    terr: Territory,
    errors: list[str],
    warnings: list[str],
    known_places: dict[str, list[list[str]]] | None = PLACES,
) -> dict[str, Any]:
    """One scenario file's keys and labels; its places too where the set lists them
    (people3's author checked its places with a validator of their own)."""
    label = path.name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or set(data) - {"name", "register", "turns", "expect"}:
        errors.append(f"{label}: top-level keys must be name, register, turns, expect")
        return {}
    if not isinstance(data.get("name"), str) or not data["name"]:
        errors.append(f"{label}: missing name")
    if data.get("register") not in REGISTERS:
        errors.append(f"{label}: bad register {data.get('register')!r}")
    turns = data.get("turns")
    if not (
        isinstance(turns, list)
        and 1 <= len(turns) <= 3
        and all(isinstance(t, str) and t.strip() for t in turns)
    ):
        errors.append(f"{label}: turns must be 1-3 non-empty strings")
        turns = []
    exp = data.get("expect") or {}
    if set(exp) - EXPECT_KEYS:
        errors.append(f"{label}: unknown expect keys {set(exp) - EXPECT_KEYS}")
    if "stage" in exp and exp["stage"] not in STAGES:
        errors.append(f"{label}: bad stage {exp['stage']!r}")
    if "profile" in exp and exp["profile"] not in PROFILES:
        errors.append(f"{label}: bad profile {exp['profile']!r}")
    needs = exp.get("needs_include", [])
    if "needs_include" in exp and not (
        1 <= len(needs) <= 3 and len(set(needs)) == len(needs) and set(needs) <= NEEDS
    ):
        errors.append(f"{label}: needs_include must be 1-3 distinct needs: {needs}")
    for key in ("contacts_include_kinds", "contacts_exclude_kinds"):
        if not set(exp.get(key, [])) <= KINDS:
            errors.append(f"{label}: bad {key} {exp[key]}")
    dep, reg = exp.get("departement"), exp.get("region")
    if dep is not None:
        if not isinstance(dep, str) or dep not in terr.dep_region:
            errors.append(f"{label}: unknown departement {dep!r}")
        elif reg != terr.dep_region[dep]:
            errors.append(f"{label}: region {reg!r} is not the region of {dep}")
    elif reg is not None and reg not in terr.regions:
        errors.append(f"{label}: unknown region {reg!r}")
    has_dla = "dla" in exp.get("contacts_include_kinds", [])
    employing_consolidation = (
        exp.get("stage") == "consolidation" and exp.get("profile") in EMPLOYING
    )
    if has_dla and not employing_consolidation:
        errors.append(f"{label}: [dla] without an employing profile at consolidation")
    if (
        not has_dla
        and exp.get("stage") == "consolidation"
        and exp.get("profile") in {"association-employeuse", "siae"}
    ):
        errors.append(f"{label}: employing structure at consolidation without [dla]")
    if not has_dla and employing_consolidation:
        warnings.append(f"{label}: {exp['profile']} at consolidation without [dla] (no employees?)")
    if known_places is None:
        return data
    places = known_places.get(path.stem)
    if places is None:
        errors.append(f"{label}: no PLACES entry")
    else:
        check_places(label, " ".join(turns), places, dep, terr, errors)
    return data


def check_advisers(path: Path, terr: Territory, errors: list[str]) -> list[dict[str, Any]]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(items, list):
        errors.append(f"{path.name}: must be a YAML list")
        return []
    for i, item in enumerate(items):
        label = f"{path.name}[{i}]"
        if not isinstance(item, dict) or set(item) != {"name", "description", "expect"}:
            errors.append(f"{label}: keys must be name, description, expect")
            continue
        exp = item["expect"]
        if set(exp) - {"verdict", "departement", "stage"} or exp.get("verdict") not in VERDICTS:
            errors.append(f"{label}: bad expect {exp}")
        if "stage" in exp and exp["stage"] not in STAGES:
            errors.append(f"{label}: bad stage {exp['stage']!r}")
        dep = exp.get("departement")
        if dep is not None and dep not in terr.dep_region:
            errors.append(f"{label}: unknown departement {dep!r}")
        check_places(label, item["description"], ADVISER_PLACES.get(i, []), dep, terr, errors)
    return items


def main() -> int:
    terr = Territory()
    errors: list[str] = []
    warnings: list[str] = []
    files = sorted((HERE / "people").glob("*.yaml"))
    people = [check_person(p, terr, errors, warnings) for p in files]
    if set(PLACES) != {p.stem for p in files}:
        errors.append("PLACES keys do not match the files")
    advisers = check_advisers(HERE / "adviser.yaml", terr, errors)
    for folder in (
        "people3",
        "people4",
        "people5",
        "people6",
        "people7",
        "people8",
        "people9",
        "people10",
        "people13",
        "people14",
        "people15",
        "people16",
        "people17",
        "people18",
        "people19",
    ):
        later = sorted((HERE / folder).glob("*.yaml"))
        for path in later:
            check_person(path, terr, errors, warnings, known_places=None)
        print(f"{folder} files: {len(later)}")

    exps = [p.get("expect") or {} for p in people if p]
    print(f"people files: {len(files)}")
    for key in ("register", "stage", "profile"):
        src = people if key == "register" else exps
        counts = Counter(d.get(key, "(not labelled)") for d in src if d is not None)
        print(f"{key}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    needs = Counter(n for e in exps for n in e.get("needs_include", []))
    print("needs: " + ", ".join(f"{k} {v}" for k, v in needs.most_common()))
    deps = {e["departement"] for e in exps if "departement" in e}
    regs = {e["region"] for e in exps if "region" in e}
    print(f"departements: {len(deps)} distinct; regions: {len(regs)} distinct")
    print(f"[dla]: {sum('dla' in e.get('contacts_include_kinds', []) for e in exps)} files")
    turns = Counter(len(p.get("turns", [])) for p in people if p)
    print("turns per file: " + ", ".join(f"{k}: {v}" for k, v in sorted(turns.items())))
    verdicts = Counter(a["expect"]["verdict"] for a in advisers if isinstance(a, dict))
    print(
        f"adviser items: {len(advisers)} — "
        + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
    )
    for w in warnings:
        print("warning:", w)
    for e in errors:
        print("ERROR:", e)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
