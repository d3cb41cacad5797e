"""The dialog's state table: every state has a handler, and every state a handler can return
is in the table.

The returns are read from the source of `bot.dialog`, so a state misspelt on a path no
conversation test takes fails here rather than leaving a resident stuck in a dead state.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from types import ModuleType

import pytest

import bot.dialog
from bot.dialog import table, vocabulary

# The states are the names annotated `State` in the vocabulary.
STATES = {
    getattr(vocabulary, name)
    for name, annotation in vocabulary.__annotations__.items()
    if annotation == "State"
}


def test_every_state_has_a_handler_and_every_step_a_prompt():
    assert set(table.HANDLERS) == STATES
    assert all(callable(handler) for handler in table.HANDLERS.values())
    assert set(table.PROMPTS) == STATES - {vocabulary.IDLE}, "idle asks nothing again"
    assert all(callable(prompt) for prompt in table.PROMPTS.values())
    assert STATES - {vocabulary.IDLE} == vocabulary.DRAFT_STATES | vocabulary.ASIDE_STATES
    assert not vocabulary.DRAFT_STATES & vocabulary.ASIDE_STATES


def _modules() -> Iterator[tuple[ModuleType, ast.Module]]:
    for info in pkgutil.iter_modules(bot.dialog.__path__):
        module = importlib.import_module(f"bot.dialog.{info.name}")
        yield module, ast.parse(inspect.getsource(module))


def _is_state(annotation: ast.expr | None) -> bool:
    """`State` or `State | None`."""
    return annotation is not None and "State" in ast.unparse(annotation).split(" | ")


class _Function:
    """A function of the package that returns a state, or takes one."""

    def __init__(self, module: ModuleType, node: ast.FunctionDef, method: bool):
        self.module, self.node = module, node
        params = [a.arg for a in node.args.args][1 if method else 0 :]
        annotated = {a.arg for a in node.args.args if _is_state(a.annotation)}
        self.state_params = {name: i for i, name in enumerate(params) if name in annotated}
        self.returns_state = _is_state(node.returns)

    def where(self, node: ast.AST) -> str:
        return f"{self.module.__name__}.{self.node.name}, line {getattr(node, 'lineno', '?')}"

    def own_nodes(self) -> Iterator[ast.AST]:
        """The nodes of the body, not those of functions defined inside it."""
        stack: list[ast.AST] = list(self.node.body)
        while stack:
            node = stack.pop()
            yield node
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                stack.extend(ast.iter_child_nodes(node))


def _functions() -> dict[str, _Function]:
    found: dict[str, _Function] = {}
    for module, tree in _modules():
        methods = {
            id(item) for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef) for item in cls.body
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                function = _Function(module, node, id(node) in methods)
                if function.returns_state or function.state_params:
                    assert node.name not in found, f"two functions {node.name}: rename one"
                    found[node.name] = function
    return found


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _states_of(expr: ast.expr, function: _Function, functions: dict[str, _Function]) -> set[str]:
    """The states an expression in a state's place can be; fails when it cannot be read."""
    where = function.where(expr)
    if isinstance(expr, ast.IfExp):
        return _states_of(expr.body, function, functions) | _states_of(
            expr.orelse, function, functions
        )
    if isinstance(expr, ast.Constant):
        assert expr.value is None or isinstance(expr.value, str), where
        return set() if expr.value is None else {expr.value}
    if isinstance(expr, ast.Name):
        if expr.id in function.state_params:
            return set()  # the caller's state, read where it is called
        value = getattr(function.module, expr.id, None)
        assert isinstance(value, str), f"{where}: {expr.id} is not a state"
        return {value}
    if isinstance(expr, ast.Attribute) and expr.attr == "state":
        return set()  # the state the message arrived in
    if isinstance(expr, ast.Attribute):
        value = getattr(function.module, ast.unparse(expr.value), None)
        assert isinstance(getattr(value, expr.attr, None), str), f"{where}: not a state"
        return {getattr(value, expr.attr)}
    if isinstance(expr, ast.Call):
        name = _callee(expr)
        if name in functions and functions[name].returns_state:
            return set()  # read in that function
        # The step stepped aside from: saved by `Turn.suspend`, from a state checked here.
        if name == "pop" and ast.unparse(expr.args[0]) == "'resume'":
            return _states_of(expr.args[1], function, functions)
    raise AssertionError(f"{where}: cannot tell which state {ast.unparse(expr)} is")


def test_every_state_a_handler_can_return_is_in_the_table():
    functions = _functions()
    for handler in [*table.HANDLERS.values(), *table.COMMANDS.values(), *table.BUTTONS.values()]:
        assert functions[handler.__name__].returns_state, f"{handler.__name__} returns a state"
    returned: dict[str, set[str]] = {}
    for function in functions.values():
        for node in function.own_nodes():
            # dispatch returns what the table's handlers return, checked above
            if isinstance(node, ast.Return) and function.node.name != "dispatch":
                assert function.returns_state and node.value is not None, function.where(node)
                states = _states_of(node.value, function, functions)
                returned.setdefault(function.node.name, set()).update(states)
            if isinstance(node, ast.Call) and _callee(node) in functions:
                callee = functions[_callee(node)]  # type: ignore[index]
                passed = {
                    **{
                        name: node.args[i]
                        for name, i in callee.state_params.items()
                        if i < len(node.args)
                    },
                    **{k.arg: k.value for k in node.keywords if k.arg in callee.state_params},
                }
                for expr in passed.values():
                    states = _states_of(expr, function, functions)
                    returned.setdefault(f"{callee.node.name} ←", set()).update(states)
    unknown = {name: states - STATES for name, states in returned.items() if states - STATES}
    assert not unknown, f"states not in the table: {unknown}"
    # The analysis saw the transitions (it would pass vacuously if it read nothing).
    assert set().union(*returned.values()) == STATES


def test_states_change_only_by_being_returned():
    for module, tree in _modules():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef) or function.name == "__init__":
                continue
            for node in ast.walk(function):
                targets = node.targets if isinstance(node, ast.Assign) else []
                targets += [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign) else []
                assert not any(
                    isinstance(t, ast.Attribute) and t.attr == "state" for t in targets
                ), f"{module.__name__}.{function.name}: return the next state instead"


def test_a_misspelt_state_fails():
    functions = _functions()
    in_a_handler = functions["on_photos"]

    def states(source: str) -> set[str]:
        return _states_of(ast.parse(source, mode="eval").body, in_a_handler, functions)

    assert states("PHOTOS") == {"photos"}
    assert states("'photo'") - STATES == {"photo"}
    with pytest.raises(AssertionError, match="PHOTO is not a state"):
        states("PHOTO")
