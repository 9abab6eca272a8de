"""Tapsets linked into scripts (frontend/tapsets.py): what a tapset may hold, where it is
found, errors shown in the tapset's own file, and files that are not trusted."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

from frontend.diagnostics import CompileError, Source
from frontend.tapsetpath import SearchPath
from ir.interp import Interpreter, RuntimeEnv
from kllvm import BUNDLED_TAPSETS, cache, driver

COUNT = """# counting helpers
var STEP = 2

function twice(x) {
\treturn x * STEP
}

function bump(x) {
\treturn twice(x) + more.one()
}
"""
MORE = "function one() {\n\treturn 1\n}\n"


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "count.kp").write_text(COUNT)
    (folder / "more.kp").write_text(MORE)
    return folder


def path_of(*folders: Path) -> SearchPath:
    return SearchPath(tuple((folder, "-I") for folder in folders))


def run_main(script: str, search: SearchPath) -> str:
    """The script's main chunk run in the interpreter; what it printed."""
    state = driver.run(driver.State(Source("s.kp", script), tapset_path=search), "verify")
    out = _Output()
    Interpreter(state.typed, RuntimeEnv(out=out, script="s.kp", argv=[])).run_main()
    return out.text


class _Output:
    def __init__(self) -> None:
        self.text = ""

    def write(self, data: bytes) -> int:
        self.text += data.decode()
        return len(data)

    def flush(self) -> None:
        pass


def compile_error(script: str, search: SearchPath) -> str:
    with pytest.raises(CompileError) as caught:
        driver.run(driver.State(Source("s.kp", script), tapset_path=search), "verify")
    return str(caught.value)


def test_functions_and_constants_of_a_tapset_and_of_the_one_it_uses(lib: Path) -> None:
    assert run_main("print(count.bump(5), count.STEP, count.twice(1))\n",
                    path_of(lib)) == "11\t2\t2\n"


def test_the_first_folder_on_the_path_wins(lib: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.mkdir()
    (first / "more.kp").write_text("function one() {\n\treturn 100\n}\n")
    assert run_main("print(count.bump(5))\n", path_of(first, lib)) == "110\n"


def test_a_local_of_the_same_name_is_not_a_library(lib: Path) -> None:
    assert run_main("var count = {}\ncount.x = 3\nprint(count.x)\n", path_of(lib)) == "3\n"


def test_bundled_hist_buckets() -> None:
    bundled = BUNDLED_TAPSETS
    script = ("print(hist.log2(1), hist.log2(2), hist.log2(1023), hist.log2(1024), "
              "hist.log2(0), hist.log2(1099511627776))\n"
              "print(hist.linear(17, 5), hist.linear(-3, 5), hist.linear(10, 5))\n")
    assert run_main(script, path_of(bundled)) == "0\t1\t9\t10\t-1\t40\n15\t-5\t10\n"


def test_an_error_in_a_tapset_is_shown_in_its_file(lib: Path) -> None:
    (lib / "count.kp").write_text(COUNT.replace("x * STEP", "x * STPE"))
    text = compile_error("print(count.bump(1))\n", path_of(lib))
    assert text.startswith(f"{lib / 'count.kp'}:5:13: error: undefined variable 'STPE'")
    assert "\n return x * STPE\n            ^~~~\n" in text


def test_a_syntax_error_in_a_tapset_is_shown_in_its_file(lib: Path) -> None:
    (lib / "more.kp").write_text("function one() {\n\treturn 1 +\n}\n")
    text = compile_error("print(count.bump(1))\n", path_of(lib))
    assert text.startswith(f"{lib / 'more.kp'}:3:1: error: unexpected '}}'")


def test_a_tapset_holds_only_functions_and_constants(lib: Path) -> None:
    (lib / "more.kp").write_text(MORE + "trace syscalls:sys_enter_getpid { }\nvar t = {}\n")
    text = compile_error("print(count.bump(1))\n", path_of(lib))
    assert f"{lib / 'more.kp'}:4:1: error: a tapset holds only 'function' definitions" in text
    assert f"{lib / 'more.kp'}:5:1: error: a tapset's 'var' must give each name a " \
        "constant" in text


def test_a_cycle_is_named(lib: Path) -> None:
    (lib / "more.kp").write_text(MORE + "function z() {\n\treturn count.twice(1)\n}\n")
    text = compile_error("print(count.bump(1))\n", path_of(lib))
    assert f"{lib / 'more.kp'}:5:9: error: tapsets use each other in a cycle: " \
        "count -> more -> count" in text


def test_an_unknown_library_says_where_it_looked(lib: Path) -> None:
    text = compile_error("var x = 1\nprint(nolib.f(x))\n", path_of(lib))
    assert text.startswith("s.kp:2:7: error: undefined variable 'nolib': no tapset "
                           f"nolib.kp either (looked in {lib} (-I))")


def test_an_unknown_member_is_named(lib: Path) -> None:
    text = compile_error("print(count.thrice(1))\n", path_of(lib))
    assert text.startswith("s.kp:1:13: error: tapset 'count' "
                           f"({lib / 'count.kp'}) has no function or constant 'thrice'")


@pytest.mark.parametrize(("how", "message"), [
    ("folder writable by all", "writable by other users"),
    ("file writable by all", "writable by other users"),
    ("symbolic link", "a symbolic link is not followed"),
    ("another user's", "belongs to user 65534"),
])
def test_a_tapset_another_user_could_change_is_not_read(lib: Path, tmp_path: Path, how: str,
                                                         message: str) -> None:
    if how == "folder writable by all":
        lib.chmod(0o777)
    elif how == "file writable by all":
        (lib / "more.kp").chmod(0o666)
    elif how == "symbolic link":
        real = tmp_path / "real.kp"
        real.write_text(MORE)
        (lib / "more.kp").unlink()
        (lib / "more.kp").symlink_to(real)
    elif os.geteuid() == 0:
        os.chown(lib / "more.kp", 65534, 65534)
    else:
        pytest.skip("only root can give a file to another user")
    text = compile_error("print(count.bump(1))\n", path_of(lib))
    assert "error: tapset 'more' is not used: " in text or how.startswith("folder")
    assert "is not used: " in text
    assert message in text


def test_the_cache_key_covers_the_tapsets(lib: Path) -> None:
    source = Source("s.kp", "print(count.bump(1))\n")
    base = cache.key(source, 128, path_of(lib))
    assert cache.key(source, 128, path_of(lib)) == base
    (lib / "more.kp").write_text(MORE + "\n")
    assert cache.key(source, 128, path_of(lib)) != base


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_tapsets", Path(__file__).resolve().parents[2] / "scripts" / "gen_tapsets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_bundled_tapsets_are_current() -> None:
    generator = _generator()
    for name, make in generator.GENERATED.items():
        assert (BUNDLED_TAPSETS / name).read_text() == make(), \
            f"run scripts/gen_tapsets.py: {name} is stale"


def test_bundled_names_of_signals_errors_and_task_states() -> None:
    script = ("print(signal.name(9), signal.name(17), signal.name(32), signal.name(40), "
              "signal.name(64), signal.name(99))\n"
              "print(errno.name(2), errno.name(-13), errno.name(11), errno.name(95), "
              "errno.name(9999))\n"
              "print(task.state(0), task.state(1), task.state(2), task.state(128), "
              "task.state(256), task.state(3))\n")
    assert run_main(script, path_of(BUNDLED_TAPSETS)) == (
        "SIGKILL\tSIGCHLD\tSIGRTMIN\tSIGRTMIN+8\tSIGRTMAX\tSIG?\n"
        "ENOENT\tEACCES\tEAGAIN\tEOPNOTSUPP\tE?\n"
        "R\tS\tD\tI\tR+\t?\n")
