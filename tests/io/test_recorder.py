"""The run folder: config.yaml, timeseries.csv, summary.json, species.csv and events.csv."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pyarrow.parquet as pq
import pytest

import evosim
from evosim import Simulation, load_world
from evosim.defaults import GENES
from evosim.errors import ConfigError
from evosim.io.recorder import Recorder, prepare_folder
from evosim.io.runner import run
from tests.helpers import TINY, read_csv, read_summary

REQUIRED_COLUMNS = [
    "tick", "species", "name", "population", "births", "deaths_starvation", "deaths_old_age",
    *[f"{s}_{g}" for g in GENES for s in ("mean", "sd")],
]  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """One recorded run of the tiny world: 123 ticks, samples every 10 ticks."""
    out = tmp_path_factory.mktemp("rec") / "run"
    world = load_world(overrides=TINY)
    summary = run(world, out, ticks=123, seed=5)
    return out, world, summary


def test_files(folder):
    out, _, _ = folder
    names = {p.name for p in out.iterdir()}
    assert {"config.yaml", "timeseries.csv", "summary.json", "species.csv", "events.csv"} <= names
    assert not [n for n in names if n.endswith(".tmp")]


def test_config_yaml_is_the_resolved_world(folder):
    """config.yaml: the world with the run's seed and length, stamped with the evosim version; a world file."""
    out, world, _ = folder
    text = (out / "config.yaml").read_text(encoding="utf-8")
    assert evosim.__version__ in text.split("\n", 1)[0]
    loaded = load_world(out / "config.yaml")
    assert loaded.sim.seed == 5 and loaded.sim.ticks == 123
    resolved = world.model_copy(
        update={"sim": world.sim.model_copy(update={"seed": 5, "ticks": 123})}
    )
    assert loaded.model_dump(exclude={"sim"}) == resolved.model_dump(exclude={"sim"})
    assert loaded.sim.population_cap == world.sim.population_cap


def test_timeseries_rows(folder):
    out, world, summary = folder
    with open(out / "timeseries.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    for c in REQUIRED_COLUMNS:
        assert c in header, f"column {c} missing"
    assert all(len(r) == len(header) for r in body)
    dicts = [dict(zip(header, r)) for r in body]
    ticks = sorted({int(d["tick"]) for d in dicts})
    assert ticks == [*range(0, 121, 10), 123]  # every sample_every ticks, and the last tick
    names = [s.name for s in world.species]
    assert [d["name"] for d in dicts if d["tick"] == "0"] == names
    for d in dicts:
        pop = int(d["population"])
        assert pop >= 0 and int(d["births"]) >= 0
        if pop:
            for g in GENES:
                assert 0.0 <= float(d[f"mean_{g}"]) <= 1.0 and 0.0 <= float(d[f"sd_{g}"]) <= 0.5
            assert 0.0 <= float(d["land_share"]) <= 1.0
        else:
            assert d["mean_brain"] == ""


def test_timeseries_counts_add_up(folder):
    """population(t) = population(previous sample) + births - deaths, per species; totals match the summary."""
    out, _, summary = folder
    rows = read_csv(out / "timeseries.csv")
    last: dict[str, int] = {}
    births = deaths = 0
    for r in rows:
        sp = r["species"]
        b, d = int(r["births"]), int(r["deaths_starvation"]) + int(r["deaths_old_age"])
        if r["tick"] != "0":
            assert int(r["population"]) == last.get(sp, 0) + b - d, r
        last[sp] = int(r["population"])
        births += b
        deaths += d
    assert births == summary["births"] > 0 and deaths == summary["deaths"] > 0
    assert sum(v for v in last.values()) == summary["final_population"]


def test_summary(folder):
    out, world, summary = folder
    assert read_summary(out) == summary
    assert summary["ended"] == "completed" and summary["ticks_run"] == 123 and summary["seed"] == 5
    assert summary["world"] == world.name and summary["evosim_version"] == evosim.__version__
    assert summary["final_population"] == sum(summary["final_populations"].values())
    assert summary["agent_steps"] > 120 * 100
    assert (
        summary["population_cap"] == world.sim.population_cap and summary["cap_reached_at"] is None
    )
    t = summary["timing"]
    assert t["wall_time_s"] >= 0 and (t["agent_steps_per_s"] is None or t["agent_steps_per_s"] > 0)
    assert t["threads"] == 1 and t["parallel_ticks"] == 0  # one thread: never the parallel build
    assert all(isinstance(v, int) for v in summary["final_populations"].values())


def test_summary_matches_the_simulation(tmp_path):
    world = load_world(overrides=TINY)
    sim = Simulation(world, seed=5)
    sim.advance(123)
    s = run(world, tmp_path / "r", ticks=123, seed=5)
    assert s["final_populations"] == sim.populations(extant_only=True)
    assert s["agent_steps"] == sim.counters.agent_steps and s["births"] == sim.counters.total_births


def test_species_and_events_logs(folder):
    out, world, _ = folder
    sp = read_csv(out / "species.csv")
    roots = [r for r in sp if r["ancestor_list"] == "[none]"]
    assert [r["name"] for r in roots] == [s.name for s in world.species]
    assert len({r["id"] for r in sp}) == len(sp)
    ev = read_csv(out / "events.csv")
    assert all(int(e["tick"]) <= 123 for e in ev)


@pytest.mark.parametrize(
    "every,ticks,expected",
    [(7, 30, [0, 7, 14, 21, 28, 30]), (1, 3, [0, 1, 2, 3]), (50, 20, [0, 20])],
)
def test_sample_every(tmp_path, every, ticks, expected):
    w = load_world(overrides={**TINY, "output.sample_every": every})
    run(w, tmp_path / "r", ticks=ticks, seed=1)
    assert sorted({int(r["tick"]) for r in read_csv(tmp_path / "r" / "timeseries.csv")}) == expected


def test_lineage_records_every_individual_once(tmp_path):
    w = load_world(overrides={**TINY, "output.lineage": True, "output.lineage_chunk_rows": 1000})
    s = run(w, tmp_path / "r", ticks=150, seed=2)
    parts = sorted((tmp_path / "r" / "lineage").glob("*.parquet"))
    assert parts
    table = (
        pq.ParquetDataset([str(p) for p in parts]).read()
        if len(parts) > 1
        else pq.read_table(parts[0])
    )
    ids = table.column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 120 + s["births"]


def test_prepare_folder(tmp_path):
    assert prepare_folder(tmp_path / "new") == tmp_path / "new"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    (tmp_path / "empty").mkdir()
    prepare_folder(tmp_path / "empty")
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a folder"):
        prepare_folder(f, force=True)
    r = tmp_path / "run"
    r.mkdir()
    (r / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="--force"):
        prepare_folder(r)
    prepare_folder(r, force=True)
    (r / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="notes.txt"):
        prepare_folder(r, force=True)


def test_recorder_final_sample_and_extinct_sample(tmp_path):
    w = load_world(overrides=TINY)
    sim = Simulation(w, seed=1)
    rec = Recorder(tmp_path / "r", sim)
    rec.open()
    sim.advance(15, rec.on_tick)
    s = rec.close("completed")
    rows = read_csv(tmp_path / "r" / "timeseries.csv")
    assert sorted({int(r["tick"]) for r in rows}) == [0, 10, 15]
    assert s["ticks_run"] == 15
    assert not math.isnan(float(rows[-1]["mean_brain"]))


@pytest.mark.parametrize("shape", [(0, 3), (4, 0), (1, 1), (5, 1), (30, 14)])
def test_texts_are_the_fmt_of_each_value_joined(shape):
    """timeseries.csv's float fields: the float-text kernel's rows equal _fmt per value."""
    from evosim.io.recorder import _fmt
    from tests.helpers import float_texts as _texts

    rng = np.random.default_rng(shape[0] * 31 + shape[1])
    a = rng.normal(0.0, 1.0, shape) * 10.0 ** rng.integers(-300, 300, shape)
    specials = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e16, 1e-5, 5e-324, 0.1, 1.0]
    mask = rng.random(shape) < 0.3
    a[mask] = rng.choice(specials, int(mask.sum()))
    expected = [",".join(_fmt(v) for v in row) for row in a]
    assert _texts(a) == expected


def test_csv_text_quotes_a_name_as_the_csv_module_does():
    from evosim.io.recorder import _csv_text

    for name in ["primate", "primate.12", 'say "hi"', "a,b", "line\nbreak", " spaced "]:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(["1", name, "2"])
        assert buf.getvalue() == f"1,{_csv_text(name)},2\n"
