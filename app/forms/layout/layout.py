"""The template layout schema: what a master form prints (header, fields, signature blocks, pages).

A layout is frozen plain data, validated when it is built (``__post_init__``), so an invalid layout cannot
exist, whether it comes from a YAML/JSON file (``layout_from_dict``/``load_layout``) or from the template
editor. Error messages name the field and say what to change. ``canonical_json`` is the stable text services
hash for signatures; keys left at their defaults are omitted from it, so adding an optional key later does not
break old signatures.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from app.textfmt import plural

NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9.-]*$")

MAX_NAME = 48
MAX_CODE = 32
MAX_TITLE = 120
MAX_LABEL = 120
MAX_HELP = 200
MAX_UNIT = 12
MAX_CHOICE = 32
MAX_CHOICES = 8
MAX_PAGES = 50
MAX_FIELDS = 200
MAX_HEADER = 400
MAX_INSTRUCTIONS = 2000


class LayoutError(ValueError):
    """The layout is invalid; the message says where (which field) and what is wrong."""


class FieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    TIME = "time"
    CHOICE = "choice"
    CHECKBOX = "checkbox"
    INITIALS = "initials"


class SignatureRole(enum.StrEnum):
    PERFORMED = "performed"
    CHECKED = "checked"
    REVIEWED = "reviewed"
    APPROVED = "approved"


class Paper(enum.StrEnum):
    A4 = "A4"
    LETTER = "Letter"


def _text(value: Any, what: str, *, max_len: int, required: bool = True, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise LayoutError(f"{what} must be text, not {type(value).__name__}")
    if required and not value.strip():
        raise LayoutError(f"{what} must not be empty")
    if len(value) > max_len:
        raise LayoutError(f"{what} is {len(value)} characters long; at most {max_len} fit on the form")
    if not multiline and ("\n" in value or "\r" in value):
        raise LayoutError(f"{what} must be a single line")
    return value


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise LayoutError(f"{what} must be true or false, not {value!r}")
    return value


def _limit(value: Any, what: str) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LayoutError(f"{what} must be a number, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise LayoutError(f"{what} must be a finite number, not {value!r}")
    return value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


@dataclasses.dataclass(frozen=True)
class FieldDef:
    """One data field: a row of the printed table and, later, an entry of the electronic record."""

    name: str
    label: str
    type: FieldType = FieldType.TEXT
    unit: str | None = None
    required: bool = True
    critical: bool = False  # needs verification by a second person
    low: int | float | None = None
    high: int | float | None = None
    choices: tuple[str, ...] = ()
    done_by: bool = False  # print a "done by (initials/date)" cell
    checked_by: bool = False  # print a "checked by (initials/date)" cell
    page: int = 1
    help: str | None = None
    decimals: int | None = None  # number fields: decimals to record and to print limits with ("99.90")

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_RE.match(self.name) or len(self.name) > MAX_NAME:
            raise LayoutError(
                f"name {self.name!r} is not a valid field name: use lower_snake_case letters, digits and "
                f"single underscores, starting with a letter, at most {MAX_NAME} characters "
                f"(e.g. sample_weight_1)"
            )
        _text(self.label, "label", max_len=MAX_LABEL)
        try:
            _set(self, "type", FieldType(self.type))
        except ValueError:
            known = ", ".join(t.value for t in FieldType)
            raise LayoutError(f"type {self.type!r} is unknown; use one of: {known}") from None
        if self.unit is not None:
            _text(self.unit, "unit", max_len=MAX_UNIT)
            if self.type is not FieldType.NUMBER:
                raise LayoutError(f"a unit ({self.unit!r}) is only for number fields, not {self.type} fields")
        for flag in ("required", "critical", "done_by", "checked_by"):
            _flag(getattr(self, flag), flag)
        _limit(self.low, "low")
        _limit(self.high, "high")
        if (self.low is not None or self.high is not None) and self.type is not FieldType.NUMBER:
            raise LayoutError(f"limits (low/high) are only for number fields, this one is {self.type}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise LayoutError(f"low limit {self.low} is above high limit {self.high}")
        if isinstance(self.choices, str) or not isinstance(self.choices, Iterable):
            raise LayoutError("choices must be a list of texts")
        choices = tuple(self.choices)
        _set(self, "choices", choices)
        if self.type is FieldType.CHOICE:
            if len(choices) < 2:
                raise LayoutError("a choice field needs at least 2 choices")
            if len(choices) > MAX_CHOICES:
                raise LayoutError(
                    f"a choice field can have at most {MAX_CHOICES} choices, not {len(choices)}"
                )
            for choice in choices:
                _text(choice, "each choice", max_len=MAX_CHOICE)
            if len({c.strip().casefold() for c in choices}) != len(choices):
                raise LayoutError("choices must be different from each other")
        elif choices:
            raise LayoutError(f"choices are only for choice fields, this one is {self.type}")
        if not _whole(self.page) or self.page < 1:
            raise LayoutError(f"page must be a whole number from 1, not {self.page!r}")
        if self.help is not None:
            _text(self.help, "help", max_len=MAX_HELP)
        if self.decimals is not None:
            if not _whole(self.decimals) or not 0 <= self.decimals <= 6:
                raise LayoutError(f"decimals must be a whole number from 0 to 6, not {self.decimals!r}")
            if self.type is not FieldType.NUMBER:
                raise LayoutError(f"decimals are only for number fields, this one is {self.type}")

    @property
    def has_limits(self) -> bool:
        return self.low is not None or self.high is not None


@dataclasses.dataclass(frozen=True)
class SignatureBlock:
    """A block printed for a WET signature on paper (name, signature, date lines). Never an image (ES-07)."""

    role: SignatureRole
    label: str

    def __post_init__(self) -> None:
        try:
            _set(self, "role", SignatureRole(self.role))
        except ValueError:
            known = ", ".join(r.value for r in SignatureRole)
            raise LayoutError(f"signature role {self.role!r} is unknown; use one of: {known}") from None
        _text(self.label, "signature block label", max_len=MAX_LABEL)


@dataclasses.dataclass(frozen=True)
class TemplateLayout:
    """One template version's layout. ``change_reason`` travels with imported files; it is not identity."""

    code: str
    title: str
    department: str
    fields: tuple[FieldDef, ...]
    header: str = ""
    instructions: str = ""
    signature_blocks: tuple[SignatureBlock, ...] = ()
    pages: int = 1
    paper: Paper = Paper.A4
    change_reason: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not CODE_RE.match(self.code) or len(self.code) > MAX_CODE:
            raise LayoutError(
                f"template code {self.code!r} is not valid: use capitals, digits, '-' and '.', starting "
                f"with a capital or digit, at most {MAX_CODE} characters (e.g. QC-WS-014)"
            )
        _text(self.title, "title", max_len=MAX_TITLE)
        _text(self.department, "department", max_len=MAX_TITLE)
        _text(self.header, "header", max_len=MAX_HEADER, required=False, multiline=True)
        _text(self.instructions, "instructions", max_len=MAX_INSTRUCTIONS, required=False, multiline=True)
        if self.change_reason is not None:
            _text(self.change_reason, "change_reason", max_len=MAX_HEADER, multiline=True)
        try:
            _set(self, "paper", Paper(self.paper))
        except ValueError:
            raise LayoutError(f"paper {self.paper!r} is unknown; use A4 or Letter") from None
        fields = tuple(self.fields)
        _set(self, "fields", fields)
        if not fields:
            raise LayoutError("a template needs at least one field")
        if len(fields) > MAX_FIELDS:
            raise LayoutError(f"a template can have at most {MAX_FIELDS} fields, this one has {len(fields)}")
        seen: dict[str, int] = {}
        for index, field in enumerate(fields, start=1):
            if not isinstance(field, FieldDef):
                raise LayoutError(f"field #{index} is not a field definition")
            if field.name in seen:
                raise LayoutError(
                    f"field #{index} {field.name!r}: the name is already used by field #{seen[field.name]}; "
                    f"field names must be unique"
                )
            seen[field.name] = index
        blocks = tuple(self.signature_blocks)
        _set(self, "signature_blocks", blocks)
        labels: set[str] = set()
        for index, block in enumerate(blocks, start=1):
            if not isinstance(block, SignatureBlock):
                raise LayoutError(f"signature block #{index} is not a signature block")
            if block.label in labels:
                raise LayoutError(f"signature block #{index}: the label {block.label!r} is used twice")
            labels.add(block.label)
        if not _whole(self.pages) or not 1 <= self.pages <= MAX_PAGES:
            raise LayoutError(f"pages must be a whole number from 1 to {MAX_PAGES}, not {self.pages!r}")
        for index, field in enumerate(fields, start=1):
            if field.page > self.pages:
                raise LayoutError(
                    f"field #{index} {field.name!r}: it is on page {field.page} but the form has only "
                    f"{plural(self.pages, 'page')}; raise pages or move the field"
                )

    def fields_on(self, page: int) -> tuple[FieldDef, ...]:
        return tuple(f for f in self.fields if f.page == page)

    def field(self, name: str) -> FieldDef:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


# --- dict / file conversion ---------------------------------------------------------------------------------

_FIELD_KEYS = tuple(f.name for f in dataclasses.fields(FieldDef))
_FIELD_DEFAULTS = {f.name: f.default for f in dataclasses.fields(FieldDef)
                   if f.default is not dataclasses.MISSING}
_BLOCK_KEYS = ("role", "label")
_LAYOUT_KEYS = tuple(f.name for f in dataclasses.fields(TemplateLayout))
_LAYOUT_REQUIRED = ("code", "title", "department", "fields")


def _check_keys(data: Any, known: Iterable[str], required: Iterable[str], where: str) -> None:
    if not isinstance(data, Mapping):
        raise LayoutError(f"{where} must be a mapping of keys to values, not {type(data).__name__}")
    known = tuple(known)
    for key in data:
        if key not in known:
            raise LayoutError(f"{where}: unknown key {key!r}; known keys are: {', '.join(known)}")
    for key in required:
        if key not in data:
            raise LayoutError(f"{where}: the key {key!r} is missing")


def _field_from_dict(data: Any, index: int) -> FieldDef:
    name = data.get("name") if isinstance(data, Mapping) else None
    where = f"field #{index}" + (f" {name!r}" if isinstance(name, str) else "")
    _check_keys(data, _FIELD_KEYS, ("name", "label"), where)
    values = dict(data)
    choices = values.get("choices", ())
    if choices is None:
        values["choices"] = ()
    elif not isinstance(choices, (list, tuple)):
        raise LayoutError(f"{where}: choices must be a list of texts")
    try:
        return FieldDef(**values)
    except LayoutError as exc:
        raise LayoutError(f"{where}: {exc}") from None


def _block_from_dict(data: Any, index: int) -> SignatureBlock:
    where = f"signature block #{index}"
    _check_keys(data, _BLOCK_KEYS, _BLOCK_KEYS, where)
    try:
        return SignatureBlock(**data)
    except LayoutError as exc:
        raise LayoutError(f"{where}: {exc}") from None


def layout_from_dict(data: Mapping[str, Any]) -> TemplateLayout:
    """Build and validate a layout from plain data (parsed YAML/JSON); LayoutError says what is wrong."""
    _check_keys(data, _LAYOUT_KEYS, _LAYOUT_REQUIRED, "template")
    raw_fields = data["fields"]
    if not isinstance(raw_fields, (list, tuple)):
        raise LayoutError("template: fields must be a list of field definitions")
    fields = tuple(_field_from_dict(item, i) for i, item in enumerate(raw_fields, start=1))
    raw_blocks = data.get("signature_blocks") or ()
    if not isinstance(raw_blocks, (list, tuple)):
        raise LayoutError("template: signature_blocks must be a list")
    blocks = tuple(_block_from_dict(item, i) for i, item in enumerate(raw_blocks, start=1))
    values = dict(data)
    values["fields"] = fields
    values["signature_blocks"] = blocks
    for key in ("header", "instructions"):
        if values.get(key) is None:
            values[key] = ""
    if values.get("pages") is None:
        values["pages"] = max(f.page for f in fields) if fields else 1
    if values.get("paper") is None:
        values["paper"] = Paper.A4
    return TemplateLayout(**values)


def _field_to_dict(field: FieldDef) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _FIELD_KEYS:
        value = getattr(field, key)
        default = _FIELD_DEFAULTS.get(key, dataclasses.MISSING)
        if key != "type" and value == default and type(value) is type(default):
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def layout_to_dict(layout: TemplateLayout) -> dict[str, Any]:
    """Plain data (only str, int, float, bool, list, dict); ``layout_from_dict`` gives back an equal layout.

    Field keys at their default value are left out; ``change_reason`` is present only when set.
    """
    out: dict[str, Any] = {
        "code": layout.code,
        "title": layout.title,
        "department": layout.department,
        "header": layout.header,
        "instructions": layout.instructions,
        "pages": layout.pages,
        "paper": layout.paper.value,
        "fields": [_field_to_dict(f) for f in layout.fields],
        "signature_blocks": [{"role": b.role.value, "label": b.label} for b in layout.signature_blocks],
    }
    if layout.change_reason is not None:
        out["change_reason"] = layout.change_reason
    return out


def canonical_json(layout: TemplateLayout) -> str:
    """Stable text of the layout's identity (sorted keys, no whitespace, no change_reason), for hashing."""
    data = layout_to_dict(layout)
    data.pop("change_reason", None)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise LayoutError(f"{path.name}: a template file must end in .yaml, .yml or .json")
    return suffix


def load_layout(path: str | Path) -> TemplateLayout:
    """Read a template from a .yaml/.yml/.json file (chosen by extension) and validate it."""
    path = Path(path)
    suffix = _suffix(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LayoutError(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise LayoutError(f"{path.name}: not valid JSON at {where}: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise LayoutError(f"{path.name}: not valid YAML{where}: {problem}") from None
    if data is None:
        raise LayoutError(f"{path.name}: the file is empty")
    try:
        return layout_from_dict(data)
    except LayoutError as exc:
        raise LayoutError(f"{path.name}: {exc}") from None


class _Dumper(yaml.SafeDumper):
    """Multi-line texts as literal blocks, so instructions read naturally in the exported file."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_layout(layout: TemplateLayout, path: str | Path) -> None:
    """Write the layout as YAML or JSON (by extension); ``load_layout`` reads back an equal layout."""
    path = Path(path)
    data = layout_to_dict(layout)
    if _suffix(path) == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    else:
        text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")
