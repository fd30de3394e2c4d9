"""Territory resolution: where a user says they are, as INSEE codes.

The public names (TerritoryIndex, load_territories, Resolution, Candidate, found…) live in
``assistant.territory.index``; the other modules are its parts.
"""
