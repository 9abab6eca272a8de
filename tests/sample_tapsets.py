"""The tapset path the samples are run with: samples/tapsets (as `-I samples/tapsets`),
then the bundled tapsets."""

from __future__ import annotations

from pathlib import Path

from frontend.tapsetpath import SearchPath
from kllvm import BUNDLED_TAPSETS

SAMPLE_TAPSETS = SearchPath((
    (Path(__file__).resolve().parents[1] / "samples" / "tapsets", "-I"),
    (BUNDLED_TAPSETS, "bundled with kllvm"),
))
