"""Every ```python block in the docs runs, in order, and its asserts hold.

Each Markdown file is executed as one script: its ```python blocks run one
after another in a single namespace, so a later block can use the names an
earlier one defined. Blocks fenced as ```text or ```python-norun are shown,
never run. A failure names the file and the line where the failing block starts.
"""

import re
import traceback
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_OPEN = re.compile(r"^(`{3,}|~{3,})\s*([^\s`]*)")


def python_blocks(path):
    """The ```python blocks of a Markdown file, as (line_number, code) pairs.

    ``line_number`` is the 1-based line of the opening fence. Only a fence
    whose info string is exactly ``python`` counts; ``python-norun``, ``text``
    and the rest are skipped, contents included. An unclosed fence is an error.
    """
    blocks = []
    fence = None  # (marker, info, line_number, lines) while inside a fence
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if fence is None:
            opened = _OPEN.match(line)
            if opened:
                fence = (opened.group(1), opened.group(2), number, [])
            continue
        marker, info, start, lines = fence
        if line.strip() == marker[0] * len(line.strip()) and len(line.strip()) >= len(marker):
            if info == "python":
                blocks.append((start, "\n".join(lines) + "\n"))
            fence = None
        else:
            lines.append(line)
    if fence is not None:
        raise ValueError(f"{path}: the fence opened at line {fence[2]} is never closed")
    return blocks


def _doc_files():
    files = sorted((ROOT / "docs").glob("*.md"))
    readme = ROOT / "README.md"
    if readme.exists():
        files.append(readme)
    return files


def run_python_blocks(path):
    """Run the file's ```python blocks in order in one namespace.

    Returns None if every block ran, else a message naming the file, the line
    where the failing block starts, and the traceback.
    """
    path = Path(path)
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    module = types.ModuleType(f"doc_{path.stem}")
    for start, code in python_blocks(path):
        # Pad with blank lines so tracebacks point at the Markdown file's own lines.
        compiled = compile("\n" * start + code, str(path), "exec")
        try:
            exec(compiled, module.__dict__)
        except Exception as error:  # noqa: BLE001: any failure is the doc's
            return (
                f"{name}: the ```python block starting at line {start} failed: "
                f"{type(error).__name__}: {error}\n\n{traceback.format_exc()}"
            )
    return None


@pytest.mark.parametrize("path", [p for p in _doc_files() if python_blocks(p)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(path):
    failure = run_python_blocks(path)
    if failure is not None:
        pytest.fail(failure, pytrace=False)


def test_tutorial_has_python_blocks():
    assert python_blocks(ROOT / "docs" / "tutorial.md"), "docs/tutorial.md runs no code"


def test_python_blocks_parses_fences(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Title\n"
        "```python\n"
        "a = 1\n"
        "```\n"
        "```text\n"
        "```python\n"  # inside a text fence: not a block of its own
        "```\n"
        "```python-norun\n"
        "raise SystemExit\n"
        "```\n"
        "````python\n"
        "s = '```'\n"
        "````\n",
        encoding="utf-8",
    )
    assert python_blocks(doc) == [(2, "a = 1\n"), (11, "s = '```'\n")]

    doc.write_text("```python\nx = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1 is never closed"):
        python_blocks(doc)


def test_a_failing_block_is_named_by_file_and_line(tmp_path):
    doc = tmp_path / "broken.md"
    doc.write_text(
        "```python\nanswer = 42\n```\n\ntext\n\n```python\nassert answer == 41, 'off by one'\n```\n",
        encoding="utf-8",
    )
    failure = run_python_blocks(doc)
    assert failure is not None
    assert "broken.md: the ```python block starting at line 7 failed" in failure
    assert "off by one" in failure
    assert 'broken.md", line 8' in failure  # the traceback points into the Markdown file


def test_blocks_share_one_namespace(tmp_path):
    doc = tmp_path / "ok.md"
    doc.write_text("```python\nanswer = 42\n```\n```python\nassert answer == 42\n```\n",
                   encoding="utf-8")
    assert run_python_blocks(doc) is None
