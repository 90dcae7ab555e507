"""timeseries.csv's adult counts make the post-hoc technology detector exact."""

from __future__ import annotations

import numpy as np

from evosim.config.load import load_world
from evosim.io import runner
from evosim.io.logs import load_run
from evosim.reports.thresholds import agreement, species_ticks
from tests.helpers import TINY

# Adult founders innovate every tick (+0.5 skill): landers hold both rungs after four ticks, while their
# children (skill 0, juveniles for a while) hold nothing. With tech_share 0.99 over a 15-tick window the
# first births (ticks ~9-10) bring the share of *all members* holding writing below 0.99 while every
# adult still holds it: counting adults and all members gives different answers.
WORLD = {
    **TINY, "world.width": 32, "world.height": 32,
    "species": [
        {"name": "lander", "count": 300, "adult": True, "genes": {"habitat": {"mean": 0.9}}},
        {"name": "swimmer", "count": 300, "adult": True, "genes": {"habitat": {"mean": 0.1}}},
    ],
    "culture.innovation_rate": 1.0, "culture.innovation_brain_exponent": 0.0,
    "culture.innovation_dexterity_weight": 0.0,
    "technology.ladder": [{"name": "fire", "threshold": 1.0, "needs_land": True},
                          {"name": "writing", "threshold": 2.0}],
    "detectors": {"min_population": 20, "tech_share": 0.99, "tech_window": 15},
    "output.sample_every": 1,
}  # fmt: skip


def test_adult_columns_are_the_detectors_counts_and_redetection_is_exact(tmp_path):
    world = load_world(overrides=WORLD)
    for seed in (1, 2):
        runner.run(world, tmp_path / f"r{seed}", ticks=40, seed=seed)
        run = load_run(tmp_path / f"r{seed}")
        ts = run.timeseries
        assert ts["adults"].dtype == np.int64 and ts["adults_final"].dtype == np.int64
        first = ts[ts["tick"] == 0].set_index("name")
        # adult founders, none holding anything yet
        assert first.loc["lander", "adults"] == 300 and first["adults_final"].sum() == 0
        assert (ts["adults_final"] <= ts["adults"]).all() and (
            ts["adults"] <= ts["population"]
        ).all()
        logged = run.species.dropna(subset=["technological_at"])
        expected = dict(zip(logged["id"].astype(int), logged["technological_at"].astype(int)))
        got = {
            s: int(t[0]) for s, t in species_ticks(run, "tech_share", [0.99]).items() if t[0] >= 0
        }
        assert got == expected and expected, (got, expected)
        assert agreement(run)["technological"] == (True, True)
        # logs without the adult columns fall back to the share of all members: later, here
        run.timeseries = ts.drop(columns=["adults", "adults_final"])
        pooled = species_ticks(run, "tech_share", [0.99])
        assert all(pooled[s][0] > t for s, t in expected.items())


def _first_held_by_hand(ticks, ok, window, step):
    """The detector's rule sample by sample: a run of held samples breaks at a miss or a gap."""
    out = []
    for row in ok:
        start, found = None, -1
        for i, (t, o) in enumerate(zip(ticks, row)):
            if not o:
                start = None
                continue
            if start is None or t - ticks[i - 1] > step:
                start = t
            if t - start + 1 >= window:
                found = start + window - 1
                break
        out.append(found)
    return out


def test_the_grouped_detection_is_first_held_per_species():
    # random species of random lengths, sampled every 5 ticks with gaps (a species missing from
    # the logs), thresholds held at random: every group's answer is the rule's on its rows alone
    import numpy as np

    from evosim.reports.thresholds import first_held, first_held_grouped

    rng = np.random.default_rng(7)
    for _ in range(50):
        lengths = rng.integers(1, 40, rng.integers(1, 12))
        ticks = np.concatenate(
            [np.cumsum(rng.choice([5, 5, 5, 10, 20], n)) + rng.integers(0, 100) for n in lengths]
        )
        starts = np.r_[0, np.cumsum(lengths)[:-1]]
        ok = rng.random((3, len(ticks))) < rng.uniform(0.3, 0.95)
        for w in (1, 11, 26):
            got = first_held_grouped(ticks, starts, ok, window=w, step=5)
            rows = [(ticks[s : s + n], ok[:, s : s + n]) for s, n in zip(starts, lengths)]
            want = [_first_held_by_hand(t, o, w, 5) for t, o in rows]
            assert got.tolist() == want
            assert [first_held(t, o, w, 5).tolist() for t, o in rows] == want
