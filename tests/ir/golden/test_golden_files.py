"""The golden programs of this folder (collected by its conftest.py): enough of them, each
.kp with its .ir and each .ir with its .kp, and every one collected as its two items."""

from __future__ import annotations

from pathlib import Path

from tests.collection import collected_ids

GOLDEN = Path(__file__).resolve().parent


def test_enough_golden_programs() -> None:
    programs = {p.stem for p in GOLDEN.glob("*.kp")}
    assert len(programs) >= 6
    assert programs == {p.stem for p in GOLDEN.glob("*.ir")}


def test_every_golden_program_is_collected() -> None:
    items = {node.split("/")[-1] for node in collected_ids(GOLDEN) if ".kp::" in node}
    assert items == {f"{p.name}::{item}" for p in GOLDEN.glob("*.kp")
                     for item in (p.with_suffix(".ir").name, "deterministic")}
