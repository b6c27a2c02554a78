"""Settings to exec properties and back: one codec, typed both ways.

TFX exec properties are strings, ints and floats; a component's settings
dataclass travels as one JSON string and is rebuilt from its own type
hints, so tuples stay tuples, nested settings stay dataclasses, and a key
the dataclass does not know (a typo in a hand-written run parameter) is an
error, not a silently ignored value.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, Dict, Type, TypeVar

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting is unknown or out of range; the message names it, the
    value given and what is allowed."""


def to_dict(settings: Any) -> Dict[str, Any]:
    return dataclasses.asdict(settings)


def to_json(settings: Any) -> str:
    """Stable text (sorted keys): equal settings give equal cache keys."""
    return json.dumps(to_dict(settings), sort_keys=True)


def from_json(cls: Type[T], text: str) -> T:
    try:
        values = json.loads(text or "{}")
    except ValueError as error:
        raise SettingsError(f"{cls.__name__}: not JSON ({error}): "
                            f"{text[:200]!r}") from error
    return from_dict(cls, values)


def from_dict(cls: Type[T], values: Dict[str, Any]) -> T:
    if not isinstance(values, dict):
        raise SettingsError(f"{cls.__name__}: expected an object of "
                            f"settings, got {values!r}")
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise SettingsError(
            f"{cls.__name__}: unknown setting(s) {', '.join(unknown)}; known: "
            f"{', '.join(sorted(fields))}")
    hints = typing.get_type_hints(cls)
    return cls(**{name: _coerce(hints[name], value, f"{cls.__name__}.{name}")
                  for name, value in values.items()})


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if value is None:
        return None
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value)
    if origin is typing.Union:                      # Optional[X]
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, where) if len(inner) == 1 else value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise SettingsError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], item, where) for item in value)
        if args and len(args) != len(value):
            raise SettingsError(f"{where}: expected {len(args)} values, got "
                                f"{value!r}")
        return tuple(_coerce(arg, item, where)
                     for arg, item in zip(args or [Any] * len(value), value))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def check(condition: bool, setting: str, value: Any, allowed: str) -> None:
    """Raises SettingsError("<setting> must be <allowed> (got <value>)")."""
    if not condition:
        raise SettingsError(f"{setting} must be {allowed} (got {value!r}).")
