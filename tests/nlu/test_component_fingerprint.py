"""Rasa's training cache must not hand back what older component code trained: every custom
component adds a hash of the components' code to its fingerprint (nlu/components/__init__.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import nlu.components as components

COMPONENTS = Path(components.__file__).resolve().parent


def test_the_fingerprint_follows_the_code(tmp_path, monkeypatch):
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text("x = 1\n")
    second.write_text("y = 2\n")
    monkeypatch.setattr(components, "_SOURCES", (first, second))
    components.source_fingerprint.cache_clear()
    before = components.source_fingerprint()
    second.write_text("y = 3\n")
    components.source_fingerprint.cache_clear()
    after = components.source_fingerprint()
    components.source_fingerprint.cache_clear()
    assert before != after


def test_the_fingerprint_covers_every_component_and_the_normaliser():
    names = {path.name for path in components._SOURCES}
    assert {p.name for p in COMPONENTS.glob("*.py")} | {"normalize.py"} <= names


def test_the_mixin_adds_the_code_to_the_fingerprint():
    assert components.CodeFingerprinted.fingerprint_addon({}) == components.source_fingerprint()


def test_every_graph_component_takes_the_mixin_first():
    """Listed first, the mixin's fingerprint_addon wins over GraphComponent's default (None)."""
    found = []
    for path in sorted(COMPONENTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            bases = [getattr(base, "id", None) for base in getattr(node, "bases", [])]
            if isinstance(node, ast.ClassDef) and "GraphComponent" in bases:
                assert bases[0] == "CodeFingerprinted", node.name
                assert "fingerprint_addon" not in {
                    item.name for item in node.body if isinstance(item, ast.FunctionDef)
                }, node.name
                found.append(node.name)
    assert len(found) == 3
