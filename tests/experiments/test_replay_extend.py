"""A longer horizon extends a replay folder (docs/replay.md): each future continues from its final
checkpoint and ends byte-identical to a fresh future of the longer horizon."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from evosim.analysis.cost import core_amount
from evosim.analysis.replay import NONE
from evosim.errors import ConfigError
from evosim.experiments.replay_design import Replay
from evosim.experiments.replay_select import Branch
from evosim.experiments.replay_spec import read_replay
from evosim.experiments.replay_worlds import source_world
from tests.experiments.test_replay import SPEC, WORLD, spec_file
from tests.experiments.test_replay import source as source  # noqa: F401 - the module's fixture
from tests.helpers import folder_bytes, read_summary

H0, H1, TICK = 40, 70, 120
EVERY = "checkpoint_every: 10\n"  # the same cadence at both horizons: every file can be compared
LOGS = ("timeseries.csv", "events.csv", "species.csv")


def replay(spec: Path, source: Path, out: Path, *args: str, code: int = 0):
    from evosim.cli.replay import replay as replay_cmd

    res = CliRunner().invoke(replay_cmd, [str(spec), "--source", str(source), "--out", str(out),
                                          "--workers", "1", "-q", *args])  # fmt: skip
    assert res.exit_code == code, res.output
    return res


def futures(out: Path) -> list[Path]:
    """The future folders of a replay folder (relative), in order."""
    return sorted(p.parent.relative_to(out) for p in out.glob("*/rep-*/*/*/reseed-*/summary.json"))


@pytest.fixture(scope="module")
def made(source, tmp_path_factory) -> tuple[Path, Path, Path]:
    """(spec at H0, a replay folder at H0, a fresh replay folder at H1), each made once."""
    root = tmp_path_factory.mktemp("replay-extend")
    spec = spec_file(root, SPEC + EVERY)
    short, ref = root / "h40", root / "h70"
    replay(spec, source, short)
    replay(spec, source, ref, "--horizon", str(H1))
    return spec, short, ref


def copy(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to


def assert_same_futures(ext: Path, ref: Path) -> None:
    """Every future of ``ext`` ran to the new horizon and is byte-identical to ``ref``'s
    (every file, checkpoints included; summary.json without its timing)."""
    names = futures(ext)
    assert len(names) == 4 and names == futures(ref)
    for f in names:
        assert read_summary(ext / f)["ticks_run"] == TICK + H1, f
        for log in LOGS:
            assert (ext / f / log).read_bytes() == (ref / f / log).read_bytes(), (f, log)
        assert folder_bytes(ext / f) == folder_bytes(ref / f), f


def extensions(out: Path) -> tuple[int, list[tuple[int, int]]]:
    m = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    return m["horizon"], [(e["from_horizon"], e["to_horizon"]) for e in m["extensions"]]


def test_a_future_records_its_absolute_end_tick(made):
    """``ticks_run`` counts from tick 0, so a task's ``ticks`` (branch tick + H) can extend it."""
    _, short, _ = made
    assert {read_summary(short / f)["ticks_run"] for f in futures(short)} == {TICK + H0}
    assert extensions(short) == (H0, [])


def test_horizon_extends_the_futures_byte_for_byte(made, source, tmp_path):
    spec, short, ref = made
    ext = copy(short, tmp_path / "ext")
    res = replay(spec, source, ext, "--horizon", str(H1))
    assert "4 of 4 futures finished (4 extended)" in res.output
    assert "4 finished future(s) to extend to 70 ticks" in res.output
    assert_same_futures(ext, ref)
    assert extensions(ext) == (H1, [(H0, H1)])
    # the table censors at the new horizon, as on the fresh replay
    assert (ext / "futures.csv").read_bytes() == (ref / "futures.csv").read_bytes()
    assert (ext / "causal.csv").read_bytes() == (ref / "causal.csv").read_bytes()
    res = replay(spec, source, ext, "--horizon", str(H1))
    assert "4 of 4 futures finished (4 skipped)" in res.output
    assert extensions(ext) == (H1, [(H0, H1)])  # a re-run at the same horizon adds nothing


def test_a_longer_horizon_in_the_file_extends_them_too(made, source, tmp_path):
    spec, short, ref = made
    ext = copy(short, tmp_path / "ext")
    longer = spec_file(tmp_path, spec.read_text().replace(f"horizon: {H0}", f"horizon: {H1}"))
    res = replay(longer, source, ext)
    assert "(4 extended)" in res.output
    assert_same_futures(ext, ref)
    assert extensions(ext) == (H1, [(H0, H1)])


def test_an_extended_future_keeps_its_own_checkpoint_cadence(made, source, tmp_path):
    """Without ``checkpoint_every`` the cadence is H // 10: 4 at H0, 7 at H1. The extension
    continues at the folder's 4, and its logs are still those of the fresh futures (made at 10)."""
    import yaml

    _, _, ref = made
    spec = spec_file(tmp_path, SPEC)
    ext = tmp_path / "ext"
    replay(spec, source, ext)
    assert "(4 extended)" in replay(spec, source, ext, "--horizon", str(H1)).output
    for f in futures(ext):
        cfg = yaml.safe_load((ext / f / "config.yaml").read_text(encoding="utf-8"))
        assert cfg["output"]["checkpoint_every"] == H0 // 10 and cfg["sim"]["ticks"] == TICK + H1
        ticks = [int(p.stem.split("-")[1]) for p in (ext / f / "checkpoints").glob("*.json")]
        assert TICK + H1 in ticks and all(t % 4 == 0 or t == TICK + H1 for t in ticks), ticks
        for log in LOGS:
            assert (ext / f / log).read_bytes() == (ref / f / log).read_bytes(), (f, log)
        assert read_summary(ext / f, timing=False) == read_summary(ref / f, timing=False)


def test_the_dry_run_lists_the_futures_to_extend_and_their_cost_and_writes_nothing(
    made, source, tmp_path, monkeypatch
):
    spec, short, _ = made
    ext = copy(short, tmp_path / "ext")
    before = folder_bytes(ext)
    # one core-second per tick: the estimate counts the ticks still to run
    monkeypatch.setattr("evosim.analysis.cost.run_core_seconds", lambda _world, ticks: float(ticks))
    res = replay(spec, source, ext, "--horizon", str(H1), "--dry-run")
    for f in futures(ext):
        assert f"to extend: {ext.resolve() / f} (tick {TICK + H0} -> {TICK + H1})" in res.output
    assert "to run: 0 past(s) and 0 future(s); to extend: 4 future(s)" in res.output
    # the past is there and each future has H1 - H0 ticks to go
    assert f"estimate: {core_amount(4 * (H1 - H0))}: " in res.output, res.output
    assert "4 finished future(s) to extend" in res.output and "core-minute" in res.output
    assert folder_bytes(ext) == before


def test_a_shorter_horizon_is_refused(made, source):
    spec, short, _ = made
    before = folder_bytes(short)
    res = replay(spec, source, short, "--horizon", "30", code=2)
    assert "different horizon" in res.output and "shorter horizon" in res.output, res.output
    assert folder_bytes(short) == before


# ------------------------------------------------------------------ the validity check
def _design(tmp_path: Path, horizon: int) -> tuple[Replay, Path]:
    """A replay of one branch (tick 120) of a run whose world has an intervention at tick 180, and a
    folder whose manifest records that branch at H0 (nothing runs)."""
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    iv = "interventions:\n  - {name: meteor, when: {tick: 180}, effect: {kind: cull, share: 0.1}}\n"
    (run / "config.yaml").write_text(WORLD + "sim: {ticks: 240, seed: 5}\n" + iv, encoding="utf-8")
    assert [i.name for i in source_world(run).interventions] == ["meteor"]
    spec = read_replay(spec_file(tmp_path, SPEC), horizon)
    b = Branch("control/rep-0/swimmer", run, "control", 0, 5, "swimmer", TICK, "tick", "")
    design = Replay(spec, tmp_path / "r.yaml", tmp_path, [b])
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    old = {**design.manifest(tmp_path / "empty"), "horizon": H0}
    (out / "experiment.json").write_text(json.dumps(old), encoding="utf-8")
    return design, out


def test_an_intervention_of_the_source_in_the_extension_window_is_refused(tmp_path):
    design, out = _design(tmp_path, H1)  # the window 161..190 holds the meteor at 180
    with pytest.raises(ConfigError) as e:
        design.manifest(out)
    msg = str(e.value)
    assert "cannot extend" in msg and "meteor" in msg and "161..190" in msg, msg
    assert f"control/rep-0/swimmer ({NONE})" in msg, msg


def test_an_extension_short_of_the_intervention_is_allowed_and_recorded(tmp_path):
    design, out = _design(tmp_path, 50)  # 161..170: the meteor comes later
    m = design.manifest(out)
    assert m["horizon"] == 50
    assert [(e["from_horizon"], e["to_horizon"]) for e in m["extensions"]] == [(H0, 50)]


def test_a_source_run_changed_since_the_replay_began_is_refused(tmp_path):
    # the folder's futures continue pasts made from the recorded source config; an edited
    # source (another SHA-256) would branch new futures from another past
    design, out = _design(tmp_path, H0)
    assert design.manifest(out)["horizon"] == H0  # the same source: allowed
    cfg = tmp_path / "run" / "config.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        design.manifest(out)
    msg = str(e.value)
    assert "source run for control/rep-0/swimmer" in msg and "changed since" in msg, msg
