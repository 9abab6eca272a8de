"""ir/records.py: the same calls give ktap's text or JSON lines (the command's use of it
is tested in tests/cli/test_json.py)."""

from __future__ import annotations

import io
import json

from frontend.diagnostics import Diagnostic, Source, Span
from ir.records import Format, Records, json_value
from ir.values import ArgstrValue, StackValue, TableValue


def pair(form: Format) -> tuple[Records, io.BytesIO, io.StringIO]:
    out, err = io.BytesIO(), io.StringIO()
    return Records(out, form, err), out, err


def lines(text: str) -> list[object]:
    return [json.loads(line) for line in text.splitlines()]


def test_values_as_json() -> None:
    assert json_value(b"a\xffb") == "a\ufffdb"  # not UTF-8: U+FFFD
    assert json_value(ArgstrValue(b"fd: 3")) == "fd: 3"
    assert json_value(StackValue(("f1", "f2"))) == ["f1", "f2"]
    assert str(json_value(TableValue(4))).startswith("table 0x")
    assert [json_value(v) for v in (None, False, -3)] == [None, False, -3]


def test_text_and_json_of_the_same_calls() -> None:
    source = Source("x.kp", "var t = {}\n")
    for form in Format:
        records, out, err = pair(form)
        records.print([1, b"a"])
        records.hist([(b"k", 2), (3, 1)], 1)
        records.diagnostic(source, Diagnostic(Span(1, 5, 1, 6), "full", "warning"))
        records.message("warning", "2 output records were lost", "x.kp")
        if form is not Format.JSON:  # folded is text but for stack-keyed print_hist
            assert out.getvalue().startswith(b"1\ta\n")
            assert out.getvalue().endswith(b"... |\n")
            assert err.getvalue() == ("x.kp:1:5: warning: full\nvar t = {}\n    ^\n"
                                      "x.kp: warning: 2 output records were lost\n")
        else:
            assert lines(out.getvalue().decode()) == [
                {"type": "print", "values": [1, "a"]},
                {"type": "print_hist", "rows": [{"key": "k", "value": 2}], "more": True}]
            assert lines(err.getvalue()) == [
                {"type": "warning", "message": "full", "file": "x.kp", "line": 1, "col": 5},
                {"type": "warning", "message": "2 output records were lost",
                 "file": "x.kp"}]
