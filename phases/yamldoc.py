"""Reading YAML with line numbers: the process overlay and the pipeline specs share it.

`YamlDoc` composes a file into nodes (never constructs Python objects from tags) and offers
typed accessors; each raises the caller's error type with file, line and dotted field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import yaml

from phases.text import control_problem, describe_char, first_control

ErrorType = Callable[[Path, "int | None", str, str], Exception]
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")

try:  # the C loader composes ~5x faster; fall back where libyaml is missing
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

_YAML_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(
    _YAML_TAG + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
)


class YamlDoc:
    """One YAML file as a node tree. Typed accessors raise `error(path, line, field, problem)`,
    so every mistake names the file, the line and the dotted field."""

    def __init__(self, path: Path, root: yaml.Node | None, error: ErrorType) -> None:
        self.path, self.root, self.error = path, root, error

    @classmethod
    def read(cls, path: Path, error: ErrorType) -> YamlDoc:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise error(path, None, "", f"not UTF-8 text ({exc.reason})") from None
        except OSError as exc:
            raise error(path, None, "", f"cannot read: {exc.strerror}") from None
        raw = _control_in(text)
        if raw is not None:  # before YAML reads it: a raw ESC or BEL has no place in a spec
            line = text.count("\n", 0, raw[0]) + 1
            raise error(path, line, "", raw[1])
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            raise error(path, line, "", f"invalid YAML: {exc.problem or exc.context}") from None
        except yaml.YAMLError as exc:
            raise error(path, None, "", f"invalid YAML: {exc}") from None
        doc = cls(path, root, error)
        doc._refuse_tags(root)
        return doc

    def _refuse_tags(self, root: yaml.Node | None) -> None:
        """Composing never builds objects, but a `!!python/...` or custom tag is still refused by
        name: the file is meant as plain data, and a tag silently read as text would hide an
        attempt (or a mistake) behind an unrelated message."""
        stack = [root] if root is not None else []
        while stack:
            node = stack.pop()
            if node.tag not in _PLAIN_TAGS:
                tag = node.tag.replace(_YAML_TAG, "!!", 1)
                raise self.fail(node, "", f"the YAML tag {tag} is not allowed (plain data only)")
            if isinstance(node, yaml.MappingNode):
                stack.extend(part for pair in node.value for part in pair)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)

    def fail(self, node: yaml.Node | None, where: str, problem: str) -> Exception:
        line = node.start_mark.line + 1 if node is not None else None
        return self.error(self.path, line, where, problem)

    def mapping(
        self, node: yaml.Node, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "expected a mapping of keys to values")
        out: dict[str, yaml.Node] = {}
        allowed = required + optional
        for key_node, value_node in node.value:
            key = self.key(key_node, where)
            if key not in allowed:
                raise self.fail(
                    key_node,
                    join(where, key),
                    f"unknown key (expected one of: {', '.join(allowed)})",
                )
            if key in out:
                raise self.fail(key_node, join(where, key), "duplicate key")
            out[key] = value_node
        for key in required:
            if key not in out:
                raise self.fail(node, join(where, key), "missing (required)")
        return out

    def entries(self, node: yaml.Node | None, where: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """A mapping whose keys are ids: [(id, key node, value node)]."""
        if is_null(node):
            return []
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "expected a mapping of ids to changes")
        seen: set[str] = set()
        out = []
        for key_node, value_node in node.value:
            key = self.key(key_node, where)
            if key in seen:
                raise self.fail(key_node, join(where, key), "duplicate id")
            seen.add(key)
            out.append((key, key_node, value_node))
        return out

    def key(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not node.value:
            raise self.fail(node, where, "keys must be plain words or ids")
        problem = control_problem(node.value)
        if problem:  # "1.1.9\n" or an ESC through a quoted escape
            raise self.fail(node, where, f"the key {node.value!r} {problem}")
        return node.value  # the raw text, so `1.1` stays "1.1" and never becomes a float

    def sequence(self, node: yaml.Node | None, where: str) -> list[yaml.Node]:
        if is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, "expected a list")
        return list(node.value)

    def text(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or is_null(node):
            raise self.fail(node, where, "expected text")
        value = node.value.strip()
        if not value:
            raise self.fail(node, where, "must not be empty")
        # a quoted YAML escape ("\e", "\x1b", "\u202e") makes a control character too
        problem = control_problem(value, multiline=True)
        if problem:
            raise self.fail(node, where, problem)
        return value

    def ident(self, node: yaml.Node, where: str) -> str:
        value = self.text(node, where)
        if not ID.match(value):
            raise self.fail(node, where, f"{value!r} is not a valid id (letters, digits, . _ -)")
        return value

    def flag(self, node: yaml.Node, where: str) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return node.value.lower() in ("true", "yes", "on")
        if isinstance(node, yaml.ScalarNode) and node.value in ("true", "false"):
            return node.value == "true"
        raise self.fail(node, where, "expected true or false")


def _control_in(text: str) -> tuple[int, str] | None:
    """(offset, problem) of the first control character in a file's text (tabs, newlines
    and carriage returns are YAML's own), or None."""
    offset = first_control(text.replace("\r", "\n"), multiline=True)
    if offset is None:
        return None
    return offset, f"holds the control character {describe_char(text[offset])}"


def is_null(node: yaml.Node | None) -> bool:
    return node is None or (
        isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
    )


def join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def scalar(node: yaml.Node) -> str | int | float | bool | None:
    """A scalar's value typed as YAML 1.1's core schema would read it (no tags beyond it)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
