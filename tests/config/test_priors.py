"""Founders drawn from a prior: the forms, reproducible draws keyed by the seed, resolution, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from evosim.config.draws import Beta, Choice, Normal, Uniform
from evosim.config.load import load_world
from evosim.config.priors import resolve_world
from evosim.errors import ConfigError
from evosim.io.runner import run
from tests.helpers import TINY, assert_one_line

PRIOR = """\
name: drawn
world: {width: 32, height: 32}
sim: {ticks: 40}
founders:
  count: 4
  prior:
    name: f
    count: 40
    adult: true
    genes:
      dexterity: {mean: {uniform: [0.0, 1.0]}, max: {beta: [2, 2, 0.2, 1.0]}}
      habitat: {mean: {choice: [0.1, 0.9]}, sd: 0.02}
      sociality: {mean: {normal: [0.5, 0.2, 0.0, 1.0]}, mutation: {uniform: [0.0, 0.05]}}
"""


def _world(tmp_path: Path, text: str = PRIOR, overrides=()):
    p = tmp_path / "w.yaml"
    p.write_text(text, encoding="utf-8")
    return p, load_world(p, overrides)


def _genes(world) -> list[dict]:
    return [s.genes.model_dump(mode="json") for s in world.species]


@pytest.mark.parametrize(
    ("draw", "lo", "hi", "mean"),
    [
        (Uniform(uniform=[0.2, 0.6]), 0.2, 0.6, 0.4),
        (Beta(beta=[2.0, 5.0]), 0.0, 1.0, 2 / 7),
        (Beta(beta=[2.0, 2.0, 0.5, 0.9]), 0.5, 0.9, 0.7),
        (Choice(choice=[0.1, 0.3, 0.8]), 0.1, 0.8, 0.4),
    ],
)
def test_each_form_draws_inside_its_support_with_its_mean(draw, lo, hi, mean):
    rng = np.random.default_rng(1)
    v = np.array([draw.draw(rng) for _ in range(4000)])
    assert draw.support() == (lo, hi)
    assert v.min() >= lo and v.max() <= hi
    assert v.mean() == pytest.approx(mean, abs=0.02)


def test_the_truncated_normal_is_the_normal_conditioned_on_its_interval():
    d = Normal(normal=[0.2, 0.3, 0.1, 0.9])
    rng = np.random.default_rng(2)
    v = np.array([d.draw(rng) for _ in range(6000)])
    ref = np.random.default_rng(3).normal(0.2, 0.3, 200_000)
    ref = ref[(ref >= 0.1) & (ref <= 0.9)]
    assert v.min() >= 0.1 and v.max() <= 0.9
    assert v.mean() == pytest.approx(ref.mean(), abs=0.01)
    assert np.median(v) == pytest.approx(np.median(ref), abs=0.015)


def test_draws_repeat_for_a_seed_and_differ_between_seeds(tmp_path):
    _, w = _world(tmp_path)
    assert w.drawn() and w.founder_names() == ["f1", "f2", "f3", "f4"]
    a, b, c = resolve_world(w, 5), resolve_world(w, 5), resolve_world(w, 6)
    assert _genes(a) == _genes(b) and _genes(a) != _genes(c)
    assert [s.name for s in a.species] == ["f1", "f2", "f3", "f4"] and a.founders is None
    assert not a.drawn() and resolve_world(a, 99) is a  # a resolved world has nothing to draw
    assert a.sim.seed == 5
    for s in a.species:  # every value a number inside its prior; the mean inside the drawn bounds
        g = s.genes
        assert (
            0.2 <= g.dexterity.max <= 1.0 and g.dexterity.min <= g.dexterity.mean <= g.dexterity.max
        )
        assert g.habitat.mean in (0.1, 0.9) and g.habitat.sd == 0.02
        assert 0.0 <= g.sociality.mutation <= 0.05 and g.brain.mean == 0.5  # not drawn: the default
    # the founders differ from each other (independent streams)
    assert len({s.genes.dexterity.mean for s in a.species}) == 4


def test_a_value_depends_on_where_it_is_not_on_how_many_were_drawn(tmp_path):
    _, w4 = _world(tmp_path)
    _, w6 = _world(tmp_path, overrides=["founders.count=6"])
    assert _genes(resolve_world(w6, 3))[:4] == _genes(resolve_world(w4, 3))
    # a species of `species` with a drawn gene keeps its values when founders are added
    own = "species:\n  - name: own\n    genes: {brain: {mean: {uniform: [0.2, 0.4]}}}\n"
    _, alone = _world(tmp_path, "world: {width: 32, height: 32}\n" + own)
    _, both = _world(tmp_path, PRIOR + own)
    assert [s.name for s in resolve_world(both, 1).species] == ["own", "f1", "f2", "f3", "f4"]
    assert _genes(resolve_world(both, 1))[0] == _genes(resolve_world(alone, 1))[0]


def test_a_run_records_the_drawn_values_and_its_config_repeats_it_byte_for_byte(tmp_path):
    _, w = _world(tmp_path)
    run(w, tmp_path / "a", seed=11)
    cfg = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text(encoding="utf-8"))
    assert cfg["founders"] is None and [s["name"] for s in cfg["species"]] == [
        "f1",
        "f2",
        "f3",
        "f4",
    ]
    assert cfg["species"] == [s.model_dump(mode="json") for s in resolve_world(w, 11).species]
    assert all(isinstance(s["genes"]["dexterity"]["mean"], float) for s in cfg["species"])
    again = load_world(tmp_path / "a" / "config.yaml")
    assert not again.drawn()
    run(again, tmp_path / "b")  # its own seed (11) and values
    for name in ("timeseries.csv", "species.csv", "events.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # another seed draws another tree of life
    run(w, tmp_path / "c", seed=12)
    other = yaml.safe_load((tmp_path / "c" / "config.yaml").read_text(encoding="utf-8"))
    assert other["species"] != cfg["species"]


def test_a_world_of_numbers_is_left_as_it_is():
    w = load_world(overrides=TINY)
    assert not w.drawn() and resolve_world(w, 3) is w


@pytest.mark.parametrize(
    ("genes", "words"),
    [
        (
            "dexterity: {min: {uniform: [0.2, 0.6]}, max: {uniform: [0.5, 0.9]}}",
            ["species[0].genes.dexterity", "impossible prior", "min > max", "0.6", "0.5"],
        ),
        ("dexterity: {min: 0.7, max: {choice: [0.5, 0.9]}}", ["impossible prior", "min > max"]),
        ("brain: {mean: {uniform: [0.6, 0.2]}}", ["species[0].genes.brain.mean", "lo <= hi"]),
        ("brain: {sd: {uniform: [0.2, 1.5]}}", ["species[0].genes.brain.sd.uniform[1]", "1"]),
        (
            "brain: {mean: {gauss: [0.5, 0.1]}}",
            ["species[0].genes.brain.mean", "uniform: [lo, hi]"],
        ),
        ("brain: {mean: {beta: [2, 0, 0, 1]}}", ["species[0].genes.brain.mean.beta[1]"]),
        ("brain: {mean: {beta: [2, 2, 0.5]}}", ["brain.mean", "[a, b, lo, hi]"]),
        ("brain: {mean: {normal: [5.0, 0.01, 0.0, 1.0]}}", ["brain.mean", "almost no mass"]),
        (
            "brain: {mean: {uniform: [0.1, 0.2], choice: [0.3]}}",
            ["brain.mean", "expected a number"],
        ),
        ("brain: {mean: .nan}", ["brain.mean"]),
    ],
)
def test_an_impossible_or_malformed_prior_is_refused_at_validation(tmp_path, genes, words):
    text = f"species:\n  - name: a\n    genes:\n      {genes}\n"
    with pytest.raises(ConfigError) as exc:
        _world(tmp_path, text)
    assert_one_line(str(exc.value), "w.yaml", *words)


def test_the_cli_refuses_an_impossible_founders_prior_with_exit_2(cli, world_file):
    p = world_file(
        "founders:\n  count: 3\n  prior:\n    genes:\n"
        "      dexterity: {min: {uniform: [0.0, 0.5]}, max: {uniform: [0.3, 1.0]}}\n"
    )
    for cmd in ("validate", "run"):
        r = cli(cmd, p)
        assert r.exit_code == 2, r.output
        assert_one_line(r.output.strip(), "founders.prior.genes.dexterity", "line 5", "min > max")


def test_validate_names_the_drawn_founders(cli, world_file):
    r = cli("validate", world_file(PRIOR))
    assert r.exit_code == 0, r.output
    assert "f1, f2, f3, f4" in r.output and "drawn from a prior" in r.output


def test_founder_names_take_part_in_the_checks(tmp_path):
    clash = PRIOR + "species:\n  - {name: f2}\n"
    with pytest.raises(ConfigError, match="repeated: f2"):
        _world(tmp_path, clash)
    aimed = PRIOR + (
        "interventions:\n  - name: hands\n    when: {trigger: intelligent}\n"
        "    target: {founder: f3}\n    effect: {kind: manipulators, level: 0.6}\n"
    )
    _world(tmp_path, aimed)  # f3 is a founding species
    with pytest.raises(ConfigError, match="'f9' is not a founding species"):
        _world(tmp_path, aimed.replace("founder: f3", "founder: f9"))
    with pytest.raises(ConfigError, match="population_cap"):
        _world(tmp_path, PRIOR, ["sim.population_cap=100"])  # 4 x 40 founders


def test_a_branch_of_a_drawn_world_draws_the_founders_of_its_checkpoint(tmp_path):
    """`evosim run --from`: the unresolved world is drawn from the checkpoint's seed, so it fits."""
    from evosim.io.runner import branch

    _, w = _world(tmp_path)
    run(w, tmp_path / "a", seed=21, checkpoint_every=20)
    header = tmp_path / "a" / "checkpoints" / "ckpt-0000000020.json"
    assert header.is_file()
    branch(header, w, tmp_path / "b")  # refused if its founders differed from the checkpoint's
    a = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text(encoding="utf-8"))
    b = yaml.safe_load((tmp_path / "b" / "config.yaml").read_text(encoding="utf-8"))
    assert b["species"] == a["species"] and b["sim"]["seed"] == 21
    for name in ("timeseries.csv", "species.csv"):  # no intervention: the branch is the run
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
