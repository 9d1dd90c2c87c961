"""PyTorch's own OpInfo sample inputs, run through chainrule and compared with torch.

One test per OpInfo of the core set (``tests/opinfo/core_set.py``): each of
torch's float64 sample inputs (at most ``MAX_SAMPLES`` per op, in op_db's
order) gives the same values, shapes, dtypes and gradients of
``sum(out * w)``; the first ``SECOND_ORDER_SAMPLES`` also the same second
derivatives; the first sample's gradients match central differences; the
first ``FLOAT32_SAMPLES`` float32 samples the same forward values. Random ops
compare shapes, dtypes and moments over 24 draws (``harness.py``). The OpInfos
chainrule does not pass are listed, with reasons, in ``known_failures.py``.
"""

import re
import warnings
from pathlib import Path

import pytest

from tests.opinfo.core_set import core_opinfos, opinfo_id
from tests.opinfo.harness import check_opinfo
from tests.opinfo.known_failures import KNOWN_FAILURES

MAX_SAMPLES = 12
SECOND_ORDER_SAMPLES = 3
FLOAT32_SAMPLES = 2

CORE = core_opinfos()


def _case(op):
    name = opinfo_id(op)
    marks = ()
    if name in KNOWN_FAILURES:
        marks = (pytest.mark.xfail(reason=KNOWN_FAILURES[name], strict=True),)
    return pytest.param(op, id=name, marks=marks)


def test_core_set_is_torchs():
    """The core set is what the issue defines: 579 OpInfos of torch 2.13.0's op_db."""
    assert len(CORE) == 579
    assert len({opinfo_id(op) for op in CORE}) == 579
    assert set(KNOWN_FAILURES) <= {opinfo_id(op) for op in CORE}


@pytest.mark.parametrize("op", [_case(op) for op in CORE])
def test_opinfo(op):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_opinfo(op, MAX_SAMPLES, SECOND_ORDER_SAMPLES, FLOAT32_SAMPLES)


def test_docs_list_exactly_the_known_failures():
    """docs/opinfo.md (written by ``python -m tests.opinfo.report --docs``) stays true."""
    text = (Path(__file__).parents[2] / "docs" / "opinfo.md").read_text()
    passing = len(CORE) - len(KNOWN_FAILURES)
    assert f"**{passing} of {len(CORE)} pass" in text
    listed = re.findall(r"^\| `([^`]+)` \|", text, re.M)
    assert sorted(listed) == sorted(KNOWN_FAILURES)
