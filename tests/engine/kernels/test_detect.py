"""The detectors' kernel against the numpy code it replaced, tick by tick on random species."""

from __future__ import annotations

import numpy as np
import pytest

from evosim.defaults import G_BRAIN, N_GENES
from evosim.engine.kernels.detect import detect
from evosim.engine.state import Detection, DetectorSettings, Tally


def numpy_detect(m: dict, counts: dict, cfg: DetectorSettings, n: int, t: int, flop: float,
                 has_ladder: bool):  # fmt: skip
    """The former ``Detectors.update`` and ``_windows`` (numpy over the species formed)."""
    alive = m["alive"][:n]
    big = alive >= cfg.min_population
    fired = []
    ok = big & (m["centroid"][:n, G_BRAIN] > cfg.brain_threshold)
    adults, holders, top = (counts[k][:n] for k in ("adults", "holders", "top"))
    ok_t = big & (holders >= cfg.tech_share * np.maximum(adults, 1)) & (adults > 0) & has_ladder
    for ok_k, since, at, flops, window in (
        (ok, m["brain_since"][:n], m["intelligent_at"][:n], m["intelligent_flop"][:n],
         cfg.intelligence_window),
        (ok_t, m["tech_since"][:n], m["technological_at"][:n], m["technological_flop"][:n],
         cfg.tech_window),
    ):  # fmt: skip
        since[~ok_k] = -1
        since[ok_k & (since < 0)] = t
        f = np.flatnonzero(ok_k & (at < 0) & (t - since + 1 >= window))
        at[f] = t
        flops[f] = flop
        fired.append(f.tolist())
    max_level = m["max_level"][:n]
    ms = []
    for sid in np.flatnonzero(top > max_level):
        ms += [(int(sid), lv) for lv in range(max_level[sid] + 1, top[sid] + 1)]
        max_level[sid] = top[sid]
    return fired[0], fired[1], ms


@pytest.mark.parametrize("has_ladder", [True, False])
def test_detect_matches_the_numpy_detectors(has_ladder):
    rng = np.random.default_rng(11)
    cap, n = 40, 33  # rows beyond the species formed are never touched
    cfg = DetectorSettings(0.5, 3, 4, 0.5, 2, has_ladder)
    mine = {
        "alive": np.zeros(cap, np.int64),
        "centroid": np.zeros((cap, N_GENES)),
        **{
            k: np.full(cap, -1, np.int64)
            for k in ("brain_since", "intelligent_at", "tech_since", "technological_at")
        },  # fmt: skip
        "intelligent_flop": np.full(cap, np.nan),
        "technological_flop": np.full(cap, np.nan),
        "max_level": np.zeros(cap, np.int64),
    }
    ref = {k: v.copy() for k, v in mine.items()}
    fired_any = [0, 0, 0]
    for t in range(1, 60):
        alive = rng.integers(0, 8, cap)
        brain = rng.choice([0.4, 0.5, 0.6, 0.9], cap)
        for d in (mine, ref):
            d["alive"][:] = alive
            d["centroid"][:, G_BRAIN] = brain
        adults = rng.integers(0, 5, cap)
        counts = {
            "adults": adults,
            "holders": np.minimum(adults, rng.integers(0, 4, cap)),
            "top": np.maximum(ref["max_level"], rng.integers(0, 5, cap) * (rng.random(cap) < 0.2)),
        }
        tally = Tally(np.zeros((cap, N_GENES)), *(counts[k] for k in ("adults", "holders", "top")),
                      np.zeros((cap, 4), np.int64))  # fmt: skip
        flop = 1e9 * t
        want = numpy_detect(ref, counts, cfg, n, t, flop, has_ladder)
        intel, tech, ms_sp, ms_lv = detect(Detection(**mine), tally, cfg, n, t, flop)
        got = (intel.tolist(), tech.tolist(), list(zip(ms_sp.tolist(), ms_lv.tolist())))
        assert got == want, t
        for k in mine:
            np.testing.assert_array_equal(mine[k], ref[k], err_msg=f"{k} at tick {t}")
        fired_any = [a + len(b) for a, b in zip(fired_any, got)]
    assert fired_any[0] > 0 and fired_any[2] > 0  # the test saw detections and milestones
    assert (fired_any[1] > 0) == has_ladder
