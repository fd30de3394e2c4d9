"""Aiguillage's reply templates, installed as the package `aiguillage_prompts`.

Not code: this file only lets the folder travel inside the wheel (see assistant/paths.py).
"""
