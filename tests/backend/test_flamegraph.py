"""The SVG flame graph (backend.flamegraph) and the folded stacks it draws (ir.fmt)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from backend import flamegraph
from ir import fmt
from ir.values import StackValue

SVG = "{http://www.w3.org/2000/svg}"


def boxes(svg: bytes) -> dict[str, tuple[float, float]]:
    """Each box's title -> (x, width)."""
    root = ET.fromstring(svg)
    found = {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        rect = group.find(f"{SVG}rect")
        assert title is not None and rect is not None and title.text is not None
        found[title.text] = (float(rect.get("x", "")), float(rect.get("width", "")))
    return found


def test_boxes_are_as_wide_as_their_samples_and_titled_for_hover() -> None:
    svg = flamegraph.render({"main;work;<hot&>": 3, "main;idle": 1}, "t <1>")
    found = boxes(svg)
    assert set(found) == {"all (4 samples, 100.00%)", "main (4 samples, 100.00%)",
                          "work (3 samples, 75.00%)", "idle (1 sample, 25.00%)",
                          "<hot&> (3 samples, 75.00%)"}
    x_all, width_all = found["all (4 samples, 100.00%)"]
    assert width_all == 1180.0 and x_all == 10.0
    # Children in name order from their parent's left edge, as wide as their share.
    assert found["idle (1 sample, 25.00%)"] == (10.0, 295.0)
    assert found["work (3 samples, 75.00%)"] == (305.0, 885.0)
    assert found["<hot&> (3 samples, 75.00%)"] == (305.0, 885.0)
    assert b"t &lt;1&gt;" in svg and b"&lt;hot&amp;&gt;" in svg


def test_no_stacks_is_an_empty_graph_that_says_so() -> None:
    svg = flamegraph.render({}, "empty")
    assert boxes(svg) == {}
    assert b"no stacks were sampled" in svg
    ET.fromstring(svg)


def test_folded_stacks_outermost_first_without_offsets() -> None:
    inner = StackValue(("kllvm_hot_function+0x1c", "main+0x9a", "__libc_start_call_main+0x7a"))
    other = StackValue(("kllvm_hot_function+0x27", "main+0x9a", "__libc_start_call_main+0x7a"))
    kernel = StackValue(("__schedule+0x628/0xf60 [mod]", "a;b+0x1/0x2", "[no kernel stack]"))
    folded = fmt.fold([(inner, 5), (other, 2), (kernel, 1)])
    assert folded == {"__libc_start_call_main;main;kllvm_hot_function": 7,
                      "[no kernel stack];a:b;__schedule": 1}
    assert fmt.print_folded(folded) == (b"__libc_start_call_main;main;kllvm_hot_function 7\n"
                                        b"[no kernel stack];a:b;__schedule 1\n")
