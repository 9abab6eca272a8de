"""An SVG flame graph of folded stacks (`kllvm run --flamegraph FILE.svg`).

Written here because no maintained Python package renders folded stacks (flamegraph.pl
is Perl, inferno is Rust, and neither is packaged for Debian). It follows
flamegraph.pl's picture: the root at the bottom, each frame a box as wide as its share
of the samples, children above their parent in name order, warm colours, and a
`<title>` on every box, which browsers show on hover: the frame, its samples and their
share. Plain SVG, no script: it opens in any browser. Every name goes through XML
escaping; nothing of the input reaches the SVG otherwise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

WIDTH = 1200
FRAME_HEIGHT = 16
PAD_TOP = 36
PAD_BOTTOM = 12
PAD_SIDE = 10
FONT_SIZE = 12
CHAR_WIDTH = 0.59 * FONT_SIZE  # Verdana's average, as flamegraph.pl assumes
MIN_WIDTH = 0.1  # narrower boxes are left out, as flamegraph.pl does


@dataclass
class _Node:
    name: str
    count: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(folded: dict[str, int]) -> _Node:
    root = _Node("all")
    for stack, count in folded.items():
        if count <= 0:
            continue
        root.count += count
        node = root
        for frame in stack.split(";"):
            node = node.children.setdefault(frame, _Node(frame))
            node.count += count
    return root


def _depth(node: _Node) -> int:
    return 1 + max((_depth(c) for c in node.children.values()), default=0)


def _colour(name: str) -> str:
    # Stable per name, in flamegraph.pl's "hot" palette.
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).digest()
    return f"rgb({205 + digest[0] % 50},{digest[1] % 230},{digest[2] % 55})"


def _label(name: str, width: float) -> str:
    fits = int((width - 6) / CHAR_WIDTH)
    if fits < 3:
        return ""
    return name if len(name) <= fits else name[:fits - 2] + ".."


def render(folded: dict[str, int], title: str) -> bytes:
    """The flame graph of `folded` (stack -> count) as an SVG document."""
    root = _tree(folded)
    levels = _depth(root)
    height = PAD_TOP + levels * FRAME_HEIGHT + PAD_BOTTOM
    scale = (WIDTH - 2 * PAD_SIDE) / root.count if root.count else 0.0
    boxes: list[str] = []

    def place(node: _Node, x: float, level: int) -> None:
        width = node.count * scale
        if width < MIN_WIDTH:
            return
        y = height - PAD_BOTTOM - (level + 1) * FRAME_HEIGHT
        share = 100 * node.count / root.count
        samples = "sample" if node.count == 1 else "samples"
        name = escape(node.name)
        boxes.append(
            f'<g><title>{name} ({node.count} {samples}, {share:.2f}%)</title>'
            f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{FRAME_HEIGHT - 1}" '
            f'fill="{_colour(node.name)}" rx="2" ry="2"/>'
            f'<text x="{x + 3:.1f}" y="{y + FRAME_HEIGHT - 4}">'
            f'{escape(_label(node.name, width))}</text></g>')
        for child in sorted(node.children.values(), key=lambda c: c.name):
            place(child, x, level + 1)
            x += child.count * scale

    if root.count:
        place(root, PAD_SIDE, 0)
    else:
        boxes.append(f'<text x="{WIDTH / 2}" y="{PAD_TOP + FRAME_HEIGHT}" '
                     'text-anchor="middle">no stacks were sampled</text>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="Verdana, sans-serif" font-size="{FONT_SIZE}">\n'
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#f8f8f8"/>\n'
        f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="17">'
        f'{escape(title)}</text>\n'
        + "\n".join(boxes) + "\n</svg>\n"
    ).encode("utf-8", "surrogateescape")
