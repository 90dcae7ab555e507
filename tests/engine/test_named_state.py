"""The named engine state (evosim.engine.state): fixed dtypes, one declaration per parameter, cached kernels."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from functools import reduce

import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.engine import state as st
from evosim.engine.params import PATHS, params_from_world
from tests.helpers import TINY


def test_a_simulations_named_tuples_have_the_fixed_dtypes(tiny_world):
    sim = Simulation(tiny_world, seed=3)
    sim.advance(3)
    named = [
        sim.pop.agents(),
        sim.grids.cells(),
        sim.species.arrays(),
        sim.scratch.index(),
        sim.scratch.tally,
        sim.scratch.arena(sim.pop),
        sim.ladder,
        sim.detectors.marks,
    ]
    for t in named:
        st.check(t)
    assert set(map(type, named)) == set(st.DTYPES)


def test_check_names_the_field_of_a_wrong_dtype(tiny_world):
    a = Simulation(tiny_world, seed=3).pop.agents()
    with pytest.raises(TypeError, match="Agents.energy is float64"):
        st.check(a._replace(energy=a.energy.astype(np.float64)))


def test_the_arena_names_the_buffers_that_share_memory(tiny_world):
    sim = Simulation(tiny_world, seed=3)
    buf = sim.scratch.arena(sim.pop)
    assert buf.sort_tmp is buf.survivors and buf.dependants is buf.survivors
    assert buf.status is buf.level and buf.offer is buf.want
    assert not np.shares_memory(buf.want, buf.gain) and not np.shares_memory(buf.gain, buf.model_z)
    assert not np.shares_memory(buf.want, sim.pop.genome)  # the spare genome, not the live one


def test_every_param_is_read_from_its_declared_path():
    world = load_world("worlds/earthlike.yaml", overrides=TINY)
    p = params_from_world(world)
    assert list(PATHS) == list(st.Params._fields)
    for field, path in PATHS.items():
        assert getattr(p, field) == float(reduce(getattr, path.split("."), world)), field
        assert type(getattr(p, field)) is float


CACHED_KERNEL = """
import numba as nb
import numpy as np
from evosim.engine.kernels.conf import kernel
from evosim.engine.state import Agents, Index

@kernel(parallel=True)
def total(a, index):
    energy = a.energy
    out = np.zeros(index.n_groups)
    for g in nb.prange(index.n_groups):
        out[g] = energy[index.order[g]]
    return out.sum()
"""

RUN = """
import sys
import numpy as np
sys.path.insert(0, {folder!r})
from evosim.engine.kernels import conf
from evosim.engine.state import Agents, Index
import mykernel
a = Agents(*(np.ones(4, dt) for dt in ["i8", "i8", "i4", "i4", "i4", "f4", "i4", "i4", "i4", "f4", "i2"]),
           np.ones((4, 7), np.float32))
index = Index(np.arange(4, dtype=np.int32), np.arange(5, dtype=np.int32), np.zeros(2, np.int32), 4)
for flavour in ("serial", "parallel"):
    d = getattr(mykernel.total, flavour)
    assert d(a, index) == 4.0
    print(flavour, sum(d.stats.cache_hits.values()),
          sum(d.stats.cache_misses.values()))
"""


def test_kernels_taking_named_tuples_load_from_the_cache_in_both_flavours(tmp_path):
    (tmp_path / "mykernel.py").write_text(textwrap.dedent(CACHED_KERNEL))
    code = RUN.format(folder=str(tmp_path))

    def run() -> list[str]:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout.split("\n")[:2]

    assert run() == ["serial 0 1", "parallel 0 1"]  # compiled and saved
    assert run() == ["serial 1 0", "parallel 1 0"]  # loaded, nothing compiled


def _kernel_defs():
    """(module, function AST, parallel?) of every ``@kernel`` function of evosim.engine.kernels."""
    import ast
    from pathlib import Path

    import evosim.engine.kernels as pkg

    for f in sorted(Path(pkg.__file__).parent.glob("*.py")):
        for node in ast.parse(f.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef):
                decs = [ast.unparse(d) for d in node.decorator_list]
                if any(d.startswith("kernel") for d in decs):
                    yield f.stem, node, any("parallel=True" in d for d in decs)


def test_no_kernel_takes_more_than_eight_parameters():
    wide = [(m, fn.name, len(fn.args.args)) for m, fn, _ in _kernel_defs() if len(fn.args.args) > 8]
    assert not wide, wide
    assert len(list(_kernel_defs())) > 20  # the walk finds the kernels


def test_no_kernel_unpacks_a_tuple_of_fields():
    """``x, y = a.x, a.y`` (or ``x, y = a``) in a kernel: numba's parallel build may drop the writes
    made through such names (evosim.engine.state, "The rule for kernels"); bind one field per line."""
    import ast

    bad = []
    for m, fn, _ in _kernel_defs():
        params = {a.arg for a in fn.args.args}
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple)):
                continue
            v = node.value
            fields = isinstance(v, ast.Tuple) and any(
                isinstance(e, ast.Attribute) and e.attr != "shape" for e in v.elts
            )
            if fields or (isinstance(v, ast.Name) and v.id in params):
                bad.append(f"{m}.{fn.name}:{node.lineno}: {ast.unparse(node)}")
    assert not bad, bad


def test_observe_counts_the_live_agents(tiny_world):
    sim = Simulation(tiny_world, seed=5)
    for ticks in (0, 7):
        sim.advance(ticks)
        obs = sim.observe()
        n_sp = len(sim.species)
        sp = sim.pop.live("species")
        assert obs.members.tolist() == np.bincount(sp, minlength=n_sp).tolist()
        assert len(obs.levels) == sim.pop.n
        adult = sim.adults()
        assert obs.adults.tolist() == np.bincount(sp[adult], minlength=n_sp).tolist()
        np.testing.assert_allclose(
            obs.gene_sum, [sim.pop.live("genome")[sp == s].sum(axis=0) for s in range(n_sp)],
            rtol=1e-6,
        )  # fmt: skip
