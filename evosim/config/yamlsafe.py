"""Safe YAML reading (duplicate keys and aliases refused) and writing.

Reading keeps the composed node tree, so an error found later by the schema
can name the line of the offending key (:func:`line_of`).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode

#: Refuse documents larger than this (a world file is a few kilobytes).
MAX_YAML_BYTES = 1_000_000
#: What a refused alias is told.
NO_ALIASES = "YAML aliases (*name) are not allowed in evosim files"


class _NoDuplicates(SafeConstructor):
    """A constructor mixin refusing duplicate (and unhashable) mapping keys."""

    def construct_mapping(self, node, deep=False):  # noqa: D102
        if isinstance(node, MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise ConstructorError(
                        None, None, "a mapping key must be a plain value", key_node.start_mark
                    ) from None
                if key in seen:
                    raise ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"duplicate key {key!r} (first given on line {seen[key].line + 1})",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


class StrictLoader(_NoDuplicates, yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and aliases.

    Aliases are refused outright: a world file never needs them, and refusing
    them rules out "billion laughs" expansion.
    """

    def compose_node(self, parent, index):  # noqa: D102
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise ComposerError(None, None, NO_ALIASES, event.start_mark)
        return super().compose_node(parent, index)


#: What PyYAML's constructors raise for a value they cannot read (``!!int`` with no digits: IndexError).
_UNREADABLE = (ValueError, TypeError, AttributeError, OverflowError, IndexError, KeyError)


def _unreadable(exc: Exception) -> str:
    """The problem of a value a constructor could not read (``exc``, one of :data:`_UNREADABLE`)."""
    if isinstance(exc, (IndexError, KeyError)):  # e.g. `!!int` or `!!bool` with nothing after it
        return "cannot read a value (a tag such as !!int or !!bool with no value after it)"
    return f"cannot read a value ({exc})"


def parse(text: str) -> tuple[Any, Node | None]:
    """Parse one YAML document into (plain data, node tree).

    Raises:
        yaml.YAMLError: malformed YAML, a duplicate key, an alias, or more than
            one document.
    """
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        try:
            data = loader.construct_document(node) if node is not None else None
        except _UNREADABLE as exc:
            # e.g. `!!int word`, `!!timestamp x`, an empty `!!int` or `!!bool`, or an integer of > 4300 digits
            raise ConstructorError(None, None, _unreadable(exc), node.start_mark) from None
    finally:
        loader.dispose()
    return data, node


_CLoader = getattr(yaml, "CSafeLoader", None)  # libyaml's parser, where PyYAML was built with it


if _CLoader is not None:

    class _StrictCLoader(_NoDuplicates, _CLoader):  # type: ignore[misc,valid-type]
        """libyaml's SafeLoader with :class:`StrictLoader`'s duplicate-key refusal."""


def parse_fast(text: str) -> Any:
    """Plain data of one YAML document, by libyaml where available: for files evosim wrote itself.

    The same refusals as :func:`parse` (duplicate keys, aliases: a first pass of libyaml's
    scanner rejects any alias before anything is composed), about ten times faster on a run's
    config.yaml; the messages of malformed YAML are libyaml's. Without libyaml it is :func:`parse`.

    Raises:
        yaml.YAMLError: as :func:`parse`.
    """
    if _CLoader is None:
        return parse(text)[0]
    for token in yaml.scan(text, Loader=_CLoader):
        if isinstance(token, yaml.AliasToken):
            raise ComposerError(None, None, NO_ALIASES, token.start_mark)
    loader = _StrictCLoader(text)
    try:
        return loader.get_single_data()
    except _UNREADABLE as exc:  # as parse() says it
        raise ConstructorError(None, None, _unreadable(exc), None) from None
    finally:
        loader.dispose()


def line_of(node: Node | None, loc: tuple, exact: bool = False) -> int | None:
    """1-based line of the deepest node along ``loc`` (keys and list indices).

    With ``exact``, None unless the tree has all of ``loc`` (the key itself is in the file).
    """
    line = None
    for part in loc:
        if isinstance(node, MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    line = k.start_mark.line + 1
                    node = v
                    break
            else:
                return None if exact else line
        elif (
            isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return None if exact else line
    return line


def dump(data: Any) -> str:
    """YAML text for plain data, keys in insertion order."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
