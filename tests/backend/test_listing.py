"""backend/listing.py against a fake tracefs: what `kllvm list` finds and how it numbers
fields (the live command is tested in tests/cli/test_list.py)."""

from __future__ import annotations

import pytest

from backend.listing import ListedEvent, ListedField, ListError, list_events
from backend.providers.catalog import TracepointCatalog
from frontend.diagnostics import CompileError
from tests.backend.fake_tracefs import FakeTracefs
from tests.backend.test_tracefs import SCHED_SWITCH

BAD_FORMAT = "name: broken\nformat:\n\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\n"
DYNAMIC_FORMAT = """\
name: myprobe
ID: 2000
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;
\tfield:__data_loc char[] name;\toffset:16;\tsize:4;\tsigned:0;
"""


def catalog() -> TracepointCatalog:
    return TracepointCatalog(FakeTracefs({
        ("sched", "sched_switch"): SCHED_SWITCH,
        ("sched", "broken"): BAD_FORMAT,
        ("uprobes", "myprobe"): DYNAMIC_FORMAT,
    }, dynamic=frozenset({("uprobes", "myprobe")})))


def test_globs_and_names_without_a_system() -> None:
    names = [e.name for e in list_events("sched:*", False, catalog())]
    assert names == ["sched:broken", "sched:sched_switch"]
    assert [e.name for e in list_events("my*", False, catalog())] == ["uprobes:myprobe"]
    assert [e.name for e in list_events(None, False, catalog())] == [
        "sched:broken", "sched:sched_switch", "uprobes:myprobe"]


def test_fields_skip_the_common_header_and_count_from_arg0() -> None:
    (event,) = list_events("uprobes:myprobe", True, catalog())
    assert event == ListedEvent("uprobes:myprobe", (
        ListedField(0, "__probe_ip", "unsigned long", "number"),
        ListedField(1, "name", "__data_loc char[]", "string")))


def test_an_unreadable_format_is_said_not_fatal() -> None:
    events = list_events("sched:*", True, catalog())
    assert events[0].name == "sched:broken" and events[0].fields is None
    assert events[0].problem == "cannot read its format: format of sched:broken has no ID"
    assert events[1].fields is not None and events[1].fields[0].name == "prev_comm"


def test_nothing_matched() -> None:
    with pytest.raises(ListError, match="nothing matches 'irq:\\*'"):
        list_events("irq:*", False, catalog())
    with pytest.raises(CompileError):
        list_events("sched:sched_switch extra", False, catalog())
