"""Aiguillage's curated knowledge, installed as the package `aiguillage_knowledge`.

Not code: this file only lets the folder travel inside the wheel (see assistant/paths.py).
"""
