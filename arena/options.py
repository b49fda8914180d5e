"""Options declared once, as typed keyword arguments, and checked from that declaration.

A player's or rater's options are its constructor's keyword-only arguments;
their annotations are the checks, constraints beside the type::

    def __init__(self, *, skill: Annotated[int | None, Field(ge=0, le=20, description="...")] = None):

:func:`options_model` turns a signature (a class's, a dataclass's) into a
pydantic model, strict as a YAML file is typed: ``true`` is not a number,
``"3e-4"`` (quoted) is not a float, ``maybe`` is not a bool; a whole number
is a fine float. A path option (:class:`FilePath`, :class:`pathlib.Path`) is
text until it is read against its file's folder, a list is a fine tuple, and
an annotation pydantic cannot check accepts anything. Messages say what was
wrong in words made from the declaration: ``option skill=25 must be a whole
number from 0 to 20``; :class:`Wording` says it where the bounds do not.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
import warnings
from dataclasses import dataclass
from pathlib import PurePath
from typing import Annotated, Any, Callable, Literal, Mapping, Sequence, TypeVar, Union

import annotated_types
import pydantic
from pydantic.fields import FieldInfo

from arena.errors import ConfigError
from arena.yaml_checks import key_error, mapping

Cls = TypeVar("Cls", bound=type)
T = TypeVar("T")

#: Strict, as YAML and command-line values arrive typed; any class can still be checked by isinstance.
CONFIG = pydantic.ConfigDict(strict=True, arbitrary_types_allowed=True, protected_namespaces=())
_MISSING = object()  #: an option not given


class FilePath(str):
    """The type to annotate an option with when it names a file that must exist.

    ``def __init__(self, *, checkpoint: FilePath, ...)``: a relative value
    from a league, study or player file is read relative to that file's
    folder (from the command line, relative to the current directory), and a
    missing file is reported before any game, with the folder it was looked
    for in (whether it is the right kind of file the plugin checks). The
    option still arrives as a plain ``str``: absolute when it came from a file.
    """


@dataclass(frozen=True)
class Wording:
    """Annotated metadata: what an option's values must be, in words, where its type and bounds say it badly.

    ``Annotated[float, Field(ge=0, le=1), Wording("a probability from 0 to 1")]``.
    """

    text: str


#: How path options are checked: as text until read against their file's folder (or as path objects, in code).
FILE_VALUE = Annotated[
    Union[Annotated[str, pydantic.Field(min_length=1)], PurePath], Wording("the path of an existing file")
]
PATH_VALUE = Annotated[Union[str, PurePath], Wording("a path")]


@functools.lru_cache(maxsize=None)
def options_model(cls: type) -> type[pydantic.BaseModel]:
    """A pydantic model of the keyword arguments ``cls`` takes: their annotations, constraints and defaults.

    Works for any class (a player, a rater, a dataclass of settings);
    an argument without an annotation, or with one pydantic cannot check, takes any value.
    """
    namespace = getattr(inspect.unwrap(cls.__init__), "__globals__", {})  # where its annotations were written
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(cls).parameters.values():
        if parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            default = ... if parameter.default is parameter.empty else parameter.default
            fields[parameter.name] = (_checkable(parameter.annotation, namespace), default)
    return pydantic.create_model(f"{cls.__name__}Options", __config__=CONFIG, **fields)


def _checkable(annotation: Any, namespace: dict[str, Any]) -> Any:
    """The annotation evaluated and made lenient where files are (paths as text, lists as tuples), or Any."""
    if annotation is inspect.Parameter.empty:
        return Any
    try:
        if isinstance(annotation, str):  # from __future__ import annotations
            annotation = eval(annotation, namespace)  # noqa: S307 - the plugin's own annotation
        annotation = _lenient(annotation)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # pydantic warns where it would check nothing (``x: 42``)
            pydantic.create_model("Probe", __config__=CONFIG, value=(annotation, ...))
    except Exception:  # a name not importable at run time, a type pydantic cannot check: accept anything
        return Any
    return annotation


def _lenient(annotation: Any) -> Any:
    """``annotation`` with paths as ``str | PurePath`` and tuples accepting lists, anywhere inside it."""
    if isinstance(annotation, type) and issubclass(annotation, (FilePath, PurePath)):
        return FILE_VALUE if issubclass(annotation, FilePath) else PATH_VALUE
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is tuple:
        return Annotated[tuple[tuple(map(_lenient, args))] if args else tuple, pydantic.Strict(False)]
    if origin is Literal or not args:
        return annotation
    inner = tuple(map(_lenient, args))
    if inner == args:
        return annotation
    if origin is Annotated:
        return Annotated[inner]
    return Union[inner] if origin in (Union, types.UnionType) else origin[inner]


def expected(field: FieldInfo) -> str:
    """What an option's values must be, in words: ``a whole number from 0 to 20``."""
    return _words(field.annotation, field.metadata)


def _words(annotation: Any, metadata: Sequence[Any] = ()) -> str:
    """The words for ``annotation`` under ``metadata`` (inner first): the last :class:`Wording`, else made up."""
    constraints = [item for entry in metadata
                   for item in (entry.metadata if isinstance(entry, FieldInfo) else [entry])]
    wording = [item.text for item in constraints if isinstance(item, Wording)]
    if wording:
        return wording[-1]  # the outermost: a plugin's own words over a path's
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return _words(args[0], [*annotation.__metadata__, *metadata])
    if origin in (Union, types.UnionType):
        return " or ".join(_words(arg, constraints) for arg in args if arg is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(map(str, args))
    if annotation is bool:
        return "true or false"
    if annotation in (int, float):
        return _bounded("a whole number" if annotation is int else "a number", constraints)
    if annotation is str:
        return "text"
    kind = origin or annotation
    if isinstance(kind, type) and issubclass(kind, Mapping):
        return "a mapping"
    if isinstance(kind, type) and issubclass(kind, (tuple, list)):
        return "a list"
    return "anything" if annotation is Any else f"a {getattr(annotation, '__name__', annotation)}"


def _bounded(noun: str, constraints: Sequence[Any]) -> str:
    """``a whole number >= 1``, ``a number from 0 to 1``, ``a positive number``."""
    bounds = {kind: getattr(item, kind) for item in constraints for kind in ("gt", "ge", "lt", "le")
              if isinstance(item, getattr(annotated_types, kind.capitalize()))}
    if set(bounds) == {"ge", "le"}:
        return f"{noun} from {bounds['ge']:g} to {bounds['le']:g}"
    if bounds == {"gt": 0}:
        return noun.replace("a ", "a positive ", 1)
    signs = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    return " ".join([noun, " and ".join(f"{signs[kind]} {value:g}" for kind, value in bounds.items())]).rstrip()


def _validated(
    cls: type, values: Mapping[str, Any], error: Callable[[str, Any, str], ConfigError]
) -> dict[str, Any]:
    """``values`` with those ``cls`` declares validated, or ``error(name, value or _MISSING, expected)`` raised."""
    model = options_model(cls)
    try:
        checked = model.model_validate(values)
    except pydantic.ValidationError as problem:
        first = problem.errors()[0]
        name = str(first["loc"][0])
        value = values.get(name, _MISSING)
        wanted = expected(model.model_fields[name])
        if first["type"] == "int_type" and isinstance(value, float) and value.is_integer():
            wanted += f": write {int(value)}"  # 1e5 reads as the float 100000.0
        raise error(name, value, wanted) from None
    return {**values, **{name: getattr(checked, name) for name in values if name in model.model_fields}}


def validate_options(cls: type, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with each one ``cls`` declares validated (ConfigError ``option skill=25 must be ...``).

    An option ``cls`` does not declare is left as it is, for the caller (or Python) to refuse.
    """

    def error(name: str, value: Any, wanted: str) -> ConfigError:
        if value is _MISSING:
            return ConfigError(f"option {name} is required: {wanted}")
        return ConfigError(f"option {name}={value!r} must be {wanted}")

    return _validated(cls, options, error)


def validate_keys(cls: type, values: Mapping[str, Any], source: str, key: str) -> dict[str, Any]:
    """``values``, a file's mapping at ``key``, checked against what ``cls`` declares (``FILE: key.name: ...``)."""

    def error(name: str, value: Any, wanted: str) -> ConfigError:
        problem = f"is required: {wanted}" if value is _MISSING else f"{value!r} must be {wanted}"
        return key_error(source, f"{key}.{name}" if key else name, problem)

    return _validated(cls, values, error)


def read_keys(cls: Callable[..., T], value: Any, source: str, key: str) -> T:
    """A file's mapping at ``key`` ('' for the top level) as ``cls``, built from the keys it declares.

    ``cls`` is a settings dataclass (or any class) whose keyword arguments are
    the section's keys: an undeclared key, a missing required one and a value
    of the wrong type or range are each a ConfigError naming ``FILE: key.name``.
    """
    declared = set(options_model(cls).model_fields)  # type: ignore[arg-type]
    values = mapping(source, key, value, declared)
    return cls(**validate_keys(cls, values, source, key))  # type: ignore[arg-type]


def checked_options(cls: Cls) -> Cls:
    """Class decorator: the constructor checks its options against their declarations when called in code too."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **options: Any) -> None:
        init(self, *args, **validate_options(cls, options))

    cls.__init__ = __init__  # type: ignore[misc]
    return cls
