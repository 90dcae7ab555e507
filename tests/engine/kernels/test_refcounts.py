"""No kernel reference-counts arrays inside its loops (a silent slow-down numba allows).

numba counts references to arrays with atomic increments and decrements, and prunes the pairs
it can prove useless. An inlined helper that takes arrays and returns on several paths defeats
the pruning: the detectors' kernel once paid 16 increments and 24 decrements per species that
way (63 us a tick instead of 3; docs/benchmarks.md, seventh round). Each kernel a tick of the
earthlike world calls is compiled here afresh (the disk cache keeps no IR) and its optimised
LLVM IR read: no ``NRT_incref`` / ``NRT_decref`` may sit in a block of a loop (a block from
which the control flow can come back to itself), nor in a function called from one.
"""

from __future__ import annotations

import re

import numba as nb
import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.engine.kernels import conf
from tests.helpers import TINY

#: Known reference counting in a loop, per kernel: (increments, decrements) allowed in loop
#: blocks. Learning's serial build counts its rank buffer once per lesson (the inlined
#: ``_rank_gathered`` takes it; ~1 % of the kernel), and its well-mixed branch the species tables;
#: the end of each 512-row block frees the block's two buffers (the rank buffer and the runs).
KNOWN = {"learn_and_innovate": (3, 7)}

_LABEL = re.compile(r"^([\w.$\-]+):")
_TARGET = re.compile(r"label %\"?([\w.$\-]+)\"?")
_CALLEE = re.compile(r"call [^@]*@\"?([^\"( ]+)")


def _functions(ir: str) -> dict[str, str]:
    """The bodies of the functions an LLVM module defines, by name."""
    return dict(re.findall(r'define [^@]*@"?([^"(]+)"?\(.*?\{\n(.*?)\n\}\n', ir, re.S))


def _blocks(body: str) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {"entry": []}
    cur = "entry"
    for line in body.splitlines():
        m = _LABEL.match(line)
        if m:
            cur = m.group(1)
            blocks[cur] = []
        else:
            blocks[cur].append(line)
    return blocks


def _loop_blocks(blocks: dict[str, list[str]]) -> set[str]:
    """The blocks from which control can return to themselves."""
    succ = {b: set(_TARGET.findall("\n".join(lines))) for b, lines in blocks.items()}
    out = set()
    for b in blocks:
        stack, seen = list(succ[b]), set()
        while stack:
            x = stack.pop()
            if x == b:
                out.add(b)
                break
            if x in seen or x not in succ:
                continue
            seen.add(x)
            stack.extend(succ[x])
    return out


def refcounts_in_loops(ir: str) -> tuple[int, int]:
    """(increments, decrements) in loop blocks of every function of ``ir``, counting a call
    from a loop block to a function of ``ir`` as that function's reference counts."""
    funcs = {name: _blocks(body) for name, body in _functions(ir).items() if "cpython" not in name}
    count = {
        name: (
            sum(line.count("@NRT_incref(") for lines in bl.values() for line in lines),
            sum(line.count("@NRT_decref(") for lines in bl.values() for line in lines),
        )
        for name, bl in funcs.items()
        if not name.startswith("NRT_")
    }
    inc = dec = 0
    for bl in funcs.values():
        for b in _loop_blocks(bl):
            for line in bl[b]:
                inc += line.count("@NRT_incref(")
                dec += line.count("@NRT_decref(")
                m = _CALLEE.search(line)
                if m and m.group(1) in count and "NRT_" not in m.group(1):
                    inc += count[m.group(1)][0]
                    dec += count[m.group(1)][1]
    return inc, dec


@pytest.fixture(scope="module")
def called_kernels():
    """Every kernel a few ticks of the earthlike world call, with the argument types used."""
    seen: dict[str, conf.Kernel] = {}
    original = conf.Kernel.__call__

    def spy(self, *args):
        seen[self.py_func.__name__] = self
        return original(self, *args)

    conf.Kernel.__call__ = spy  # type: ignore[method-assign]
    try:
        sim = Simulation(load_world("worlds/earthlike.yaml", overrides=TINY), seed=2)
        sim.advance(4)
    finally:
        conf.Kernel.__call__ = original  # type: ignore[method-assign]
    return seen


@nb.njit(inline="always")
def _window(ok, s, since, at, window, tick, fired, k):
    """The detectors' former window helper: arrays in, several returns (pruning fails)."""
    if not ok:
        since[s] = -1
        return k
    if since[s] < 0:
        since[s] = tick
    if at[s] < 0 and tick - since[s] + 1 >= window:
        at[s] = tick
        fired[k] = s
        return k + 1
    return k


def test_the_scan_finds_reference_counting_in_a_loop():
    def leaky(since, at, ok):
        fired = np.empty(since.shape[0], np.int64)
        k = 0
        for s in range(since.shape[0]):
            k = _window(ok[s], s, since, at, 3, 10, fired, k)
        return fired[:k]

    def clean(since, at, ok):
        fired = np.empty(since.shape[0], np.int64)
        k = 0
        for s in range(since.shape[0]):
            if ok[s] and at[s] < 0:
                fired[k] = s
                k += 1
        return fired[:k]

    sig = (nb.int64[::1], nb.int64[::1], nb.boolean[::1])
    inc, dec = refcounts_in_loops(nb.njit(sig, **conf.JIT)(leaky).inspect_llvm(sig))
    assert inc > 0 and dec > 0
    assert refcounts_in_loops(nb.njit(sig, **conf.JIT)(clean).inspect_llvm(sig)) == (0, 0)


def test_no_kernel_reference_counts_inside_a_loop(called_kernels):
    assert {
        "sense_and_move",
        "learn_and_innovate",
        "forage",
        "detect",
        "tally",
        "index_and_count_brains",
    } <= set(called_kernels)
    found = {}
    for name, k in sorted(called_kernels.items()):
        sig = k.serial.signatures[0]
        ir = nb.njit(sig, **conf.JIT)(k.serial.py_func).inspect_llvm(sig)  # (the flavour run)
        inc, dec = refcounts_in_loops(ir)
        allowed = KNOWN.get(name, (0, 0))
        if inc > allowed[0] or dec > allowed[1]:
            found[name] = (inc, dec)
    assert not found, f"reference counting inside loops (increments, decrements): {found}"


def test_the_two_task_forms_reference_count_outside_their_loops(called_kernels):
    """The threaded form (``py_func``) of each kernel whose one-thread flavour is built from
    another function (``tally``): the ticks above ran the one-thread flavour, so the two-task
    form is checked here, with the same argument types. (Kernels whose two tasks are their
    serial flavour too, such as ``index_and_count_brains``, are read by the scan above.)"""
    two_task = {
        name: k
        for name, k in called_kernels.items()
        if k.serial.py_func.__code__ is not k.py_func.__code__
    }
    assert "tally" in two_task
    for name, k in sorted(two_task.items()):
        sig = k.serial.signatures[0]
        ir = nb.njit(sig, **conf.JIT)(k.py_func).inspect_llvm(sig)
        assert refcounts_in_loops(ir) == (0, 0), name
