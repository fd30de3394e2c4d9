"""The shared vocabulary of PRODUCT.md: the only values data, API and scenarios may use."""

from __future__ import annotations

from typing import Literal, get_args

Stage = Literal["emergence", "creation", "consolidation", "developpement"]
Profile = Literal[
    "individuel",
    "collectif",
    "association",
    "association-employeuse",
    "entreprise",
    "scop-scic",
    "siae",
    "collectivite",
]
Need = Literal[
    "financement",
    "modele-economique",
    "juridique",
    "gouvernance",
    "emploi-rh",
    "impact",
    "cooperation",
    "implantation",
    "local",
    "mentorat",
    "numerique",
    "commercial",
    "formation",
    "reseau",
]
StructureKind = Literal[
    "dla",
    "cress",
    "incubateur",
    "couveuse",
    "cae",
    "generateur",
    "accelerateur",
    "financeur",
    "reseau",
    "lieu",
    "pole-territorial",
    "collectivite",
    "orientation",
    "classique",
]
CardKind = Literal["programme", "guide", "synthese", "structure", "practice", "faq"]

STAGES: tuple[str, ...] = get_args(Stage)
PROFILES: tuple[str, ...] = get_args(Profile)
NEEDS: tuple[str, ...] = get_args(Need)
STRUCTURE_KINDS: tuple[str, ...] = get_args(StructureKind)
CARD_KINDS: tuple[str, ...] = get_args(CardKind)

STAGE_LABELS: dict[str, str] = {
    "emergence": "Émergence (de l'envie à l'idée, puis au projet)",
    "creation": "Création (monter et lancer la structure)",
    "consolidation": "Consolidation (sécuriser le modèle et les emplois)",
    "developpement": "Développement (changer d'échelle, essaimer, accélérer)",
}
PROFILE_LABELS: dict[str, str] = {
    "individuel": "Porteur ou porteuse de projet individuel",
    "collectif": "Collectif de personnes (sans structure)",
    "association": "Association",
    "association-employeuse": "Association employeuse",
    "entreprise": "Entreprise",
    "scop-scic": "Scop ou Scic",
    "siae": "Structure d'insertion par l'activité économique (SIAE)",
    "collectivite": "Collectivité",
}
NEED_LABELS: dict[str, str] = {
    "financement": "Financement",
    "modele-economique": "Modèle économique",
    "juridique": "Statut et questions juridiques",
    "gouvernance": "Gouvernance",
    "emploi-rh": "Emploi et ressources humaines",
    "impact": "Mesure d'impact social",
    "cooperation": "Coopération et mutualisation",
    "implantation": "Implantation sur un nouveau territoire, essaimage",
    "local": "Trouver un local",
    "mentorat": "Mentorat",
    "numerique": "Numérique",
    "commercial": "Commercial et marché",
    "formation": "Formation",
    "reseau": "Réseau et mise en relation",
}
KIND_LABELS: dict[str, str] = {
    "dla": "Dispositif local d'accompagnement (DLA)",
    "cress": "Chambre régionale de l'ESS (CRESS)",
    "incubateur": "Incubateur",
    "couveuse": "Couveuse d'entreprises",
    "cae": "Coopérative d'activité et d'emploi (CAE)",
    "generateur": "Générateur de projets",
    "accelerateur": "Accélérateur",
    "financeur": "Financeur",
    "reseau": "Réseau",
    "lieu": "Lieu (tiers-lieu, pépinière, coworking)",
    "pole-territorial": "Pôle territorial (PTCE, pôle ESS)",
    "collectivite": "Collectivité",
    "orientation": "Plateforme ou collectif régional d'orientation",
    "classique": "Réseau classique d'appui à la création (CCI, CMA, BGE…)",
}
