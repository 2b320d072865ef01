"""The catalogue document a client carries: what is accepted, how it is normalised, what is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idp.catalogue.schema import (
    DEFAULT_ORDER,
    MAX_DOCUMENT,
    MAX_ENTRIES,
    MAX_TAB_TEXT,
    CatalogueInvalid,
    parse_catalogue,
    validate_catalogue,
)
from idp.errors import InvalidInput


def document(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "matter": "因公出国(境)培训",
        "department": "引进国外智力管理司",
        "code": "11100000000013127Y4000117056001",
        "entries": [
            {"name": "项目管理", "url": "https://train.example.cn/projects"},
            {"name": "对接洽谈", "url": "https://train.example.cn/matchmaking"},
            {"name": "学员考试", "url": "http://127.0.0.1:8002/exams?x=1#top"},
        ],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def refused(text: str) -> str:
    with pytest.raises(CatalogueInvalid) as caught:
        validate_catalogue(text)
    assert isinstance(caught.value, InvalidInput), "the CLI maps InvalidInput to exit code 2"
    return caught.value.public


def test_a_full_document_is_normalised() -> None:
    raw = document(
        matter="  因公出国(境)培训 ",
        hot=True,
        order=10,
        tabs={"documents": " 《说明》 ", "conditions": "第一条\r\n第二条\r第三条", "process": "   "},
    )
    stored = json.loads(validate_catalogue(json.dumps(raw)))

    assert list(stored) == ["matter", "department", "code", "entries", "hot", "order", "tabs"]
    assert stored["matter"] == "因公出国(境)培训"
    assert stored["hot"] is True and stored["order"] == 10
    assert [e["name"] for e in stored["entries"]] == ["项目管理", "对接洽谈", "学员考试"]
    # Tabs keep their line breaks (as \n), lose surrounding blanks; an empty tab is dropped.
    assert stored["tabs"] == {"conditions": "第一条\n第二条\n第三条", "documents": "《说明》"}


def test_the_minimal_document_gets_defaults_and_round_trips() -> None:
    data = parse_catalogue(json.dumps(document()))
    assert data.hot is False and data.order == DEFAULT_ORDER and data.tabs == {}
    assert parse_catalogue(data.to_json()) == data
    # Chinese stays readable in the stored JSON (operators read it with `idp catalogue list --json`).
    assert "因公出国" in data.to_json()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "JSON object is required"),
        ("   ", "JSON object is required"),
        ("not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('"a string"', "must be a JSON object"),
        ('{"matter": "a", "matter": "b"}', "duplicate key"),
        ('{"order": NaN}', "not valid JSON"),
        ('{"order": Infinity}', "not valid JSON"),
        ('{"order": ' + "9" * 5000 + "}", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "longer than"),
        ("[" * 30_000 + "]" * 30_000, "nested too deeply"),
    ],
)
def test_malformed_json_is_refused(text: str, fragment: str) -> None:
    assert fragment in refused(text)


def test_an_oversized_document_is_refused_before_parsing() -> None:
    huge = json.dumps(document(tabs={"description": "长" * MAX_DOCUMENT}))
    assert "longer than" in refused(huge)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"matter": ...}, "matter is required"),
        ({"matter": ""}, "matter is required"),
        ({"matter": 42}, "matter must be a string"),
        ({"matter": "x" * 101}, "matter is longer than 100"),
        ({"department": None}, "department is required"),
        ({"department": ["办公厅"]}, "department must be a string"),
        ({"code": ...}, "code is required"),
        ({"code": "1110 0000"}, "code may hold only"),
        ({"code": "-leading"}, "code may hold only"),
        ({"code": "１１１"}, "code may hold only"),
        ({"entries": ...}, "entries must be a list"),
        ({"entries": []}, "entries must be a list"),
        ({"entries": {"name": "a", "url": "https://a.cn"}}, "entries must be a list"),
        ({"entries": ["https://a.cn"]}, "entries[1] must be an object"),
        ({"entries": [{"name": "a"}]}, "entries[1].url is required"),
        ({"entries": [{"name": "a", "url": 7}]}, "entries[1].url must be a string"),
        ({"entries": [{"url": "https://a.cn"}]}, "entries[1].name is required"),
        ({"entries": [{"name": "a", "url": "https://a.cn", "target": "_blank"}]}, "unknown key 'target'"),
        (
            {"entries": [{"name": "a", "url": "https://a.cn"}, {"name": "a", "url": "https://b.cn"}]},
            "entries[2].name 'a' is used twice",
        ),
        (
            {"entries": [{"name": f"入口{i}", "url": "https://a.cn"} for i in range(MAX_ENTRIES + 1)]},
            f"at most {MAX_ENTRIES} entries",
        ),
        ({"hot": "true"}, "hot must be true or false"),
        ({"hot": 1}, "hot must be true or false"),
        ({"order": True}, "order must be a whole number"),
        ({"order": -1}, "order must be a whole number"),
        ({"order": 10_000}, "order must be a whole number"),
        ({"order": 1.5}, "order must be a whole number"),
        ({"order": "1"}, "order must be a whole number"),
        ({"tabs": "申请条件"}, "tabs must be an object"),
        ({"tabs": {"申请条件": "x"}}, "tabs has unknown key"),
        ({"tabs": {"process": 5}}, "tabs.process must be a string"),
        ({"tabs": {"process": "长" * (MAX_TAB_TEXT + 1)}}, f"longer than {MAX_TAB_TEXT}"),
        ({"hto": True}, "unknown key 'hto'"),
        ({"__proto__": {}}, "unknown key '__proto__'"),
    ],
)
def test_field_rules_name_the_field(changes: dict[str, Any], fragment: str) -> None:
    assert fragment in refused(json.dumps(document(**changes)))


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "  javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://files.example.cn/",
        "HTTP://train.example.cn/",
        "Https://train.example.cn/",
        "//train.example.cn/projects",
        "/projects",
        "https://",
        "http:///path-only",
        "https://user:pass@train.example.cn/",
        "https://train.example.cn@evil.example/",
        "https://train.example.cn/a b",
        "https://train.example.cn/\u200bprojects",
        "https://train.example.cn/\x00",
        "https://[::1/",
        "https://train.example.cn:99999/",
        "https://train.example.cn:port/",
        "https://train.example.cn/" + "a" * 2000,
    ],
)
def test_entry_urls_are_absolute_http_or_https_only(url: str) -> None:
    message = refused(json.dumps(document(entries=[{"name": "项目管理", "url": url}])))
    assert "entries[1].url" in message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("培训\x00", "control character"),
        ("培训\x1b[31m", "control character"),
        ("培训\n第二行", "control character"),
        ("\u202e训培", "text-direction control"),
        ("培训\u2066", "text-direction control"),
        ("培训\ud800", "unpaired surrogate"),
    ],
)
def test_hidden_and_control_characters_are_refused_in_names(value: str, fragment: str) -> None:
    # json.dumps writes \ud800 as an escape, exactly as a hostile document would carry it.
    message = refused(json.dumps(document(matter=value)))
    assert "matter" in message and fragment in message


def test_tab_texts_may_hold_line_breaks_but_no_other_controls() -> None:
    ok = parse_catalogue(json.dumps(document(tabs={"process": "1. 登录\n2. 办理\t(在线)"})))
    assert ok.tabs["process"] == "1. 登录\n2. 办理\t(在线)"
    assert "control character" in refused(json.dumps(document(tabs={"process": "1.\x07"})))
    assert "unpaired surrogate" in refused(json.dumps(document(tabs={"process": "\udfff"})))


def test_the_previous_seed_shape_stays_valid() -> None:
    # Clients registered before validation existed carried exactly these keys.
    old = {
        "matter": "因公出国(境)培训",
        "department": "引进国外智力管理司",
        "code": "11100000000013127Y4000117056001",
        "entries": [{"name": "项目管理", "url": "http://127.0.0.1:8002/projects"}],
    }
    assert parse_catalogue(json.dumps(old, ensure_ascii=False)).matter == "因公出国(境)培训"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_either_refused_or_normalised_stably(text: str) -> None:
    try:
        stored = validate_catalogue(text)
    except CatalogueInvalid:
        return
    assert validate_catalogue(stored) == stored


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "matter": json_values,
            "department": json_values,
            "code": json_values,
            "entries": json_values,
            "hot": json_values,
            "order": json_values,
            "tabs": json_values,
        },
    )
)
def test_arbitrary_json_objects_never_escape_as_other_errors(candidate: dict[str, Any]) -> None:
    try:
        data = parse_catalogue(json.dumps(candidate))
    except CatalogueInvalid:
        return
    assert all(e.url.startswith(("http://", "https://")) for e in data.entries)
