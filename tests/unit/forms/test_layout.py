import copy
import dataclasses
import json

import pytest
import yaml

from app.forms.layout.layout import (
    FieldDef,
    FieldType,
    LayoutError,
    Paper,
    SignatureBlock,
    SignatureRole,
    TemplateLayout,
    canonical_json,
    dump_layout,
    layout_from_dict,
    layout_to_dict,
    load_layout,
)
from app.forms.resources import resource

SAMPLES = sorted(resource("templates").glob("*.yaml"))

BASE = {
    "code": "QC-WS-014",
    "title": "Balance weighing worksheet",
    "department": "Quality Control",
    "header": "Weighing per SOP-QC-005",
    "instructions": "Line one.\nLine two.",
    "pages": 2,
    "paper": "A4",
    "fields": [
        {"name": "balance_id", "label": "Balance ID", "type": "text", "done_by": True},
        {"name": "weight", "label": "Weight", "type": "number", "unit": "g", "low": 0.095, "high": 0.105,
         "decimals": 4, "critical": True, "checked_by": True},
        {"name": "result", "label": "Result", "type": "choice", "choices": ["Pass", "Fail"], "page": 2},
        {"name": "remarks", "label": "Remarks", "type": "text", "required": False, "page": 2,
         "help": "or NA"},
    ],
    "signature_blocks": [{"role": "performed", "label": "Weighed by"},
                         {"role": "reviewed", "label": "Reviewed by"}],
}


def mutated(change):
    data = copy.deepcopy(BASE)
    change(data)
    return data


def test_samples_exist():
    assert {p.stem for p in SAMPLES} >= {"QC-WS-014", "PRD-LOG-007", "PRD-BR-102"}
    assert len(SAMPLES) >= 4


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_template_loads_and_round_trips(path, tmp_path):
    layout = load_layout(path)
    assert layout.code == path.stem
    assert layout.change_reason  # every version carries a change-control reference
    assert layout_from_dict(layout_to_dict(layout)) == layout
    for suffix in (".yaml", ".json"):
        out = tmp_path / f"copy{suffix}"
        dump_layout(layout, out)
        again = load_layout(out)
        assert again == layout
        assert again.change_reason == layout.change_reason
        assert canonical_json(again) == canonical_json(layout)


def test_two_page_sample_has_fields_on_both_pages():
    layout = load_layout(resource("templates", "PRD-BR-102.yaml"))
    assert layout.pages == 2
    assert layout.fields_on(1) and layout.fields_on(2)
    assert any(f.done_by and f.checked_by and f.critical for f in layout.fields)
    assert any(f.type is FieldType.CHOICE for f in layout.fields)
    assert any(f.type is FieldType.TIME for f in layout.fields)


def test_round_trip_keeps_every_property():
    layout = layout_from_dict(BASE)
    weight = layout.field("weight")
    assert weight.type is FieldType.NUMBER and weight.unit == "g" and weight.low == 0.095
    assert weight.decimals == 4 and weight.critical and weight.checked_by and not weight.done_by
    assert layout.field("result").choices == ("Pass", "Fail")
    assert layout.signature_blocks[0] == SignatureBlock(SignatureRole.PERFORMED, "Weighed by")
    assert layout.paper is Paper.A4
    data = layout_to_dict(layout)
    assert json.loads(json.dumps(data)) == data  # plain data only
    assert layout_from_dict(data) == layout
    assert layout_to_dict(layout_from_dict(data)) == data


def test_defaults_are_filled_and_omitted_again():
    minimal = {"code": "X-1", "title": "T", "department": "D",
               "fields": [{"name": "a", "label": "A"}, {"name": "b", "label": "B", "page": 3}]}
    layout = layout_from_dict(minimal)
    assert layout.pages == 3  # the highest field page
    assert layout.fields[0] == FieldDef(name="a", label="A")
    assert layout.fields[0].required and not layout.fields[0].critical
    assert layout_to_dict(layout)["fields"][0] == {"name": "a", "label": "A", "type": "text"}


def test_canonical_json_is_stable_sorted_and_ignores_change_reason():
    one = layout_from_dict({**BASE, "change_reason": "CC-1"})
    two = layout_from_dict({**BASE, "change_reason": "CC-2"})
    assert one == two
    text = canonical_json(one)
    assert text == canonical_json(two)
    data = json.loads(text)
    assert "change_reason" not in data
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    other = layout_from_dict(mutated(lambda d: d["fields"][1].update(high=0.106)))
    assert canonical_json(other) != text


def test_yaml_keeps_unicode_and_multiline_text(tmp_path):
    layout = layout_from_dict(mutated(lambda d: d["fields"][1].update(unit="µS/cm", label="Leitfähigkeit")))
    out = tmp_path / "t.yml"
    dump_layout(layout, out)
    text = out.read_text(encoding="utf-8")
    assert "µS/cm" in text and "Leitfähigkeit" in text
    assert "instructions: |" in text
    assert load_layout(out) == layout


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(colour="red"), "template: unknown key 'colour'"),
    (lambda d: d["fields"][1].update(lo=1), "field #2 'weight': unknown key 'lo'"),
    (lambda d: d.pop("title"), "the key 'title' is missing"),
    (lambda d: d["fields"][1].pop("label"), "field #2 'weight': the key 'label' is missing"),
    (lambda d: d["fields"][1].update(name="balance_id"),
     "field #2 'balance_id': the name is already used by field #1"),
    (lambda d: d["fields"][0].update(name="Balance ID"), "'Balance ID' is not a valid field name"),
    (lambda d: d["fields"][0].update(name="2nd_weight"), "is not a valid field name"),
    (lambda d: d["fields"][0].update(name="a__b"), "is not a valid field name"),
    (lambda d: d["fields"][0].update(type="float"), "field #1 'balance_id': type 'float' is unknown"),
    (lambda d: d["fields"][0].update(low=1),
     "field #1 'balance_id': limits (low/high) are only for number fields"),
    (lambda d: d["fields"][1].update(low=2, high=1), "field #2 'weight': low limit 2 is above high limit 1"),
    (lambda d: d["fields"][1].update(low="1"), "low must be a number"),
    (lambda d: d["fields"][1].update(high=True), "high must be a number"),
    (lambda d: d["fields"][1].update(high=float("nan")), "finite"),
    (lambda d: d["fields"][0].update(unit="g"), "a unit ('g') is only for number fields"),
    (lambda d: d["fields"][0].update(decimals=2), "decimals are only for number fields"),
    (lambda d: d["fields"][1].update(decimals=9), "decimals must be a whole number from 0 to 6"),
    (lambda d: d["fields"][0].update(choices=["a", "b"]), "choices are only for choice fields"),
    (lambda d: d["fields"][2].update(choices=["Pass"]),
     "field #3 'result': a choice field needs at least 2 choices"),
    (lambda d: d["fields"][2].update(choices=["Pass", "pass"]), "choices must be different"),
    (lambda d: d["fields"][2].pop("choices"), "needs at least 2 choices"),
    (lambda d: d["fields"][2].update(choices="Pass, Fail"), "choices must be a list"),
    (lambda d: d["fields"][2].update(page=3),
     "field #3 'result': it is on page 3 but the form has only 2 pages"),
    (lambda d: d["fields"][2].update(page=0), "page must be a whole number from 1"),
    (lambda d: d["fields"][0].update(required="yes"), "required must be true or false"),
    (lambda d: d["fields"][0].update(label=""), "label must not be empty"),
    (lambda d: d["fields"][0].update(label="a\nb"), "label must be a single line"),
    (lambda d: d["fields"][0].update(label="x" * 500), "at most"),
    (lambda d: d.update(code="qc-ws-014"), "template code 'qc-ws-014' is not valid"),
    (lambda d: d.update(code="QC WS"), "template code"),
    (lambda d: d.update(paper="A5"), "paper 'A5' is unknown"),
    (lambda d: d.update(pages=0), "pages must be a whole number"),
    (lambda d: d.update(fields=[]), "at least one field"),
    (lambda d: d.update(fields={"a": 1}), "fields must be a list"),
    (lambda d: d["fields"].append("weight"), "field #5 must be a mapping"),
    (lambda d: d["signature_blocks"].append({"role": "signed", "label": "X"}),
     "signature block #3: signature role 'signed' is unknown"),
    (lambda d: d["signature_blocks"].append({"role": "approved", "label": "Weighed by"}), "used twice"),
    (lambda d: d["signature_blocks"].append({"role": "approved", "label": "QA", "image": "sig.png"}),
     "signature block #3: unknown key 'image'"),
])
def test_invalid_layouts_are_refused_with_an_actionable_message(change, message):
    with pytest.raises(LayoutError) as info:
        layout_from_dict(mutated(change))
    assert message in str(info.value)


def test_direct_construction_is_validated_and_coerced():
    field = FieldDef(name="ph", label="pH", type="number", low=6, high=8, choices=[])
    assert field.type is FieldType.NUMBER and field.choices == ()
    with pytest.raises(LayoutError, match="above high"):
        FieldDef(name="ph", label="pH", type=FieldType.NUMBER, low=9, high=8)
    layout = TemplateLayout(code="A-1", title="T", department="D", fields=[field], paper="Letter")
    assert layout.paper is Paper.LETTER and isinstance(layout.fields, tuple)
    with pytest.raises(LayoutError, match="only 1 page"):
        TemplateLayout(code="A-1", title="T", department="D", fields=[FieldDef("x", "X", page=2)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.title = "changed"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("t.txt", "code: X", "must end in .yaml, .yml or .json"),
    ("t.yaml", "code: [unclosed", "not valid YAML at line"),
    ("t.json", "{\"code\": ", "not valid JSON at line 1"),
    ("t.yaml", "", "the file is empty"),
    ("t.yaml", "- a\n- b\n", "template must be a mapping"),
])
def test_bad_files_are_refused(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LayoutError) as info:
        load_layout(path)
    assert message in str(info.value)
    assert name in str(info.value)


def test_error_in_file_names_the_file_and_field(tmp_path):
    data = mutated(lambda d: d["fields"][1].update(low=5, high=1))
    path = tmp_path / "QC-WS-014.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    expected = r"QC-WS-014.yaml: field #2 'weight': low limit 5 is above high limit 1"
    with pytest.raises(LayoutError, match=expected):
        load_layout(path)
