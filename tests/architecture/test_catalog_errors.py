"""One way to translate: what a person reads comes from the gettext catalog, never from a
Vietnamese text and an English one written side by side.

Read from the source (the AST of webapp/, bot/ and workers/), so a new raise site or table is
checked without being run. `webapp/translations/README.md` says how texts enter the catalog.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("webapp", "bot", "workers")
# The letters Vietnamese has and English does not (tone marks, ă â ê ô ơ ư, đ).
VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)
# Calls whose string arguments are catalog msgids (extracted by scripts/update-catalog).
CATALOG = frozenset(
    {"_", "_l", "N_", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext", "pgettext"}
)
# Catalog calls that render at once, in the language of whoever is asking at that moment.
EAGER = frozenset({"_", "gettext", "ngettext", "pgettext"})


def _sources() -> Iterator[tuple[str, ast.AST]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _domain_errors(trees: list[tuple[str, ast.AST]]) -> dict[str, bool]:
    """Every DomainError class by name → whether it takes DomainError's (message, *, field)."""
    bases: dict[str, list[str]] = {}
    own_init: set[str] = set()
    for _path, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [b for b in map(_name, node.bases) if b]
                if any(isinstance(n, ast.FunctionDef) and n.name == "__init__" for n in node.body):
                    own_init.add(node.name)
    found = {"DomainError"}
    while True:
        more = {name for name, parents in bases.items() if found & set(parents)} - found
        if not more:
            break
        found |= more

    def standard(name: str) -> bool:
        if name == "DomainError":
            return True
        if name in own_init:
            return False
        return all(standard(b) for b in bases.get(name, []) if b in found)

    classes = {name: standard(name) for name in found}
    # An imported alias (`from webapp.errors import DomainError as Error`) is the class too.
    for _path, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.asname and alias.name in classes:
                        classes[alias.asname] = classes[alias.name]
    return classes


def _loose_literals(node: ast.AST) -> Iterator[ast.Constant]:
    """String constants in `node` that are not the arguments of a catalog call."""
    if isinstance(node, ast.Call) and _name(node.func) in CATALOG:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    for child in ast.iter_child_nodes(node):
        yield from _loose_literals(child)


def test_domain_errors_carry_one_catalog_text():
    """A DomainError's message is one catalog text, lazy, rendered when read.

    At every call of DomainError or a subclass (found by walking the class hierarchy in the
    source; the name at the call is matched, `errors.NotFound(...)` as well as `NotFound(...)`
    and an imported alias):

    1. A class that keeps DomainError's constructor `(message, *, field=None)` gets at most
       one positional argument: a second one was the English half of the old pair.
    2. Its message (the first positional argument) holds no string literal outside a catalog
       call (`_l`, `lazy_gettext`, ...): an f-string, a literal or `"…".format()` would be
       shown untranslated. Text that is data comes in a variable (a plain `str`).
    3. The message is not an eager `_()`/`gettext()` call either: that renders in the language
       of the request that raised it, so `message("en")` could not give the English.
    4. No argument of any DomainError call (a subclass with its own constructor included)
       holds a literal with Vietnamese letters outside a catalog call.

    A message assembled in a variable before the call is not followed; the catalog's own
    check (scripts/check-translations) and review cover that.
    """
    trees = list(_sources())
    errors = _domain_errors(trees)
    found = []
    for path, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in errors:
                continue
            where = f"{path}:{node.lineno} {_name(node.func)}"
            standard = errors[_name(node.func) or ""]
            if standard and len(node.args) > 1:
                found.append(f"{where}: {len(node.args)} positional arguments (message, *, field)")
            if standard and node.args:
                message = node.args[0]
                if any(True for _ in _loose_literals(message)):
                    found.append(f"{where}: a message written outside the catalog (use _l)")
                if isinstance(message, ast.Call) and _name(message.func) in EAGER:
                    found.append(f"{where}: an eager gettext message (use the lazy _l)")
            arguments = [*node.args, *(k.value for k in node.keywords)]
            for literal in (c for a in arguments for c in _loose_literals(a)):
                if VIETNAMESE.search(literal.value):
                    found.append(f"{where}: Vietnamese text outside the catalog: {literal.value!r}")
    assert not found, "\n".join(found)
    assert {"ValidationError", "NotFound", "RateLimited"} <= errors.keys()


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def _pair(vietnamese: ast.AST, english: ast.AST) -> bool:
    """A Vietnamese literal, then an English one: a Vietnamese letter in the first; none in the
    second, which holds a Latin word of three letters or more."""
    vi, en = _text(vietnamese), _text(english)
    if vi is None or en is None:
        return False
    return bool(
        VIETNAMESE.search(vi) and not VIETNAMESE.search(en) and re.search("[A-Za-z]{3}", en)
    )


def test_no_vietnamese_english_pairs():
    """No (Vietnamese, English) tables and no `"…" if en else "…"` choices in the code.

    Flagged: two neighbouring literal elements of a tuple or list, Vietnamese first (the
    `("Đã đóng", "Closed")` row of such a table), or the two branches of a conditional
    expression in either order, where the Vietnamese literal has a Vietnamese letter and the
    English one has none and holds a Latin word of three letters or more. (An English text
    before a Vietnamese one in a tuple is data: `("admin@demo.vn", "Quản trị hệ thống")`.)
    Such a label is one catalog text instead (`_l("Đã đóng")`), rendered with
    `webapp.infra.i18n.in_language(text, locale)` or by the request's own locale.
    """
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Tuple | ast.List):
                pairs = zip(node.elts, node.elts[1:], strict=False)
            elif isinstance(node, ast.IfExp):
                pairs = iter([(node.body, node.orelse), (node.orelse, node.body)])
            else:
                continue
            for first, second in pairs:
                if _pair(first, second):
                    found.append(f"{path}:{node.lineno}: {_text(first)!r} / {_text(second)!r}")
    assert not found, "\n".join(found)
