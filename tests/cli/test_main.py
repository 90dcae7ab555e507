"""The command line through click's CliRunner: run, validate, init, --out/--force."""

from __future__ import annotations

import pytest
import yaml

import evosim
from evosim.io.recorder import RUN_FILES
from tests.helpers import folder_bytes, read_csv, read_summary, set_args, starving_overrides


def test_version_and_help(cli):
    r = cli("--version")
    assert r.exit_code == 0 and evosim.__version__ in r.output
    r = cli("--help")
    assert r.exit_code == 0
    for cmd in ("run", "validate", "init"):
        assert cmd in r.output
    assert cli("run", "--help").exit_code == 0


def test_validate_ok(cli, world_file):
    r = cli("validate")
    assert r.exit_code == 0 and "OK" in r.output and "128x128" in r.output
    assert "primate, cetacean, corvid, cephalopod" in r.output
    f = world_file("name: tiny\nworld: {width: 40, height: 30}\n")
    r = cli("validate", f, "--set", "world.height=20")
    assert r.exit_code == 0 and "40x20" in r.output and "tiny" in r.output


def test_run_writes_a_run_folder(cli, tiny_sets, tmp_path):
    out = tmp_path / "out"
    r = cli("run", "--out", out, "--ticks", "25", "--seed", "3", *tiny_sets)
    assert r.exit_code == 0, r.output
    assert "completed after 25 ticks" in r.stdout and f"run folder: {out}" in r.stdout
    for name in ("config.yaml", "timeseries.csv", "summary.json"):
        assert (out / name).is_file()
    s = read_summary(out)
    assert s["ticks_run"] == 25 and s["seed"] == 3 and s["ended"] == "completed"
    text = (out / "config.yaml").read_text(encoding="utf-8")
    cfg = yaml.safe_load(text)
    assert evosim.__version__ in text.splitlines()[0]
    assert cfg["sim"]["seed"] == 3 and cfg["sim"]["ticks"] == 25 and cfg["world"]["width"] == 32


def test_run_without_out_makes_a_fresh_folder_under_runs(cli, tiny_sets):
    r1 = cli("run", "--ticks", "3", "-q", *tiny_sets)
    r2 = cli("run", "--ticks", "3", "-q", *tiny_sets)
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    runs = sorted((cli.cwd / "runs").iterdir())
    assert len(runs) == 2 and all(p.name.startswith("tiny-seed0-") for p in runs)


def test_progress_and_first_run_compile_notice(cli, tiny_sets, tmp_path, monkeypatch):
    import evosim.io.runner

    monkeypatch.setattr(evosim.io.runner, "kernels_cached", lambda: False)
    r = cli("run", "--out", tmp_path / "a", "--ticks", "20", *tiny_sets)
    assert r.exit_code == 0 and "Compiling" in r.stderr
    assert "seed 0" not in r.stderr  # no bar (nor its label) where stderr is not a terminal
    monkeypatch.setattr(evosim.io.runner, "kernels_cached", lambda: True)
    r = cli("run", "--out", tmp_path / "b", "--ticks", "20", *tiny_sets)
    assert r.exit_code == 0 and "Compiling" not in r.output
    r = cli("run", "--out", tmp_path / "c", "--ticks", "20", "-q", *tiny_sets)
    assert r.exit_code == 0 and r.stderr == ""


def test_cap_and_extinction_are_reported(cli, tiny_sets, tmp_path):
    r = cli(
        "run",
        "--out",
        tmp_path / "cap",
        "--ticks",
        "200",
        "-q",
        *tiny_sets,
        "--set",
        "sim.population_cap=130",
    )
    assert r.exit_code == 0, r.output
    assert "population cap (130) was reached at tick" in r.stdout
    s = read_summary(tmp_path / "cap")
    assert s["cap_reached_at"] is not None and s["births_refused_at_cap"] > 0
    r = cli(
        "run",
        "--out",
        tmp_path / "dead",
        "--ticks",
        "500",
        "-q",
        *tiny_sets,
        *set_args(starving_overrides()),
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("extinct after")
    assert read_summary(tmp_path / "dead")["ended"] == "extinct"


def test_ticks_zero(cli, tiny_sets, tmp_path):
    r = cli("run", "--out", tmp_path / "z", "--ticks", "0", "-q", *tiny_sets)
    assert r.exit_code == 0
    rows = read_csv(tmp_path / "z" / "timeseries.csv")
    assert {r["tick"] for r in rows} == {"0"} and read_summary(tmp_path / "z")["ticks_run"] == 0


@pytest.mark.parametrize(
    "args", [["--ticks", "-1"], ["--seed", "-3"], ["--ticks", "many"], ["--bogus"]]
)
def test_bad_options_exit_2(cli, tmp_path, args):
    r = cli("run", "--out", tmp_path / "x", *args)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------ --out and --force
def _run(cli, out, *extra, ticks="5", tiny_sets=()):
    return cli("run", "--out", out, "--ticks", ticks, "-q", *tiny_sets, *extra)


def test_out_refuses_an_existing_run_folder_without_force(cli, tiny_sets, tmp_path):
    out = tmp_path / "run"
    assert _run(cli, out, "--seed", "1", tiny_sets=tiny_sets).exit_code == 0
    before = folder_bytes(out)
    r = _run(cli, out, "--seed", "2", tiny_sets=tiny_sets)
    assert r.exit_code == 2
    assert "already exists" in r.output and "--force" in r.output and str(out) in r.output
    assert folder_bytes(out) == before


def test_force_replaces_a_run_folder(cli, tiny_sets, tmp_path):
    out = tmp_path / "run"
    assert _run(cli, out, "--seed", "1", tiny_sets=tiny_sets).exit_code == 0
    (out / "checkpoints").mkdir(exist_ok=True)
    (out / "checkpoints" / "old.npz").write_bytes(b"stale")
    r = _run(cli, out, "--seed", "2", "--force", tiny_sets=tiny_sets)
    assert r.exit_code == 0, r.output
    assert read_summary(out)["seed"] == 2
    assert not (out / "checkpoints" / "old.npz").exists()  # nothing stale survives


def test_force_never_wipes_foreign_files(cli, tiny_sets, tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("precious", encoding="utf-8")
    (out / "summary.json").write_text("{}", encoding="utf-8")
    r = _run(cli, out, "--force", tiny_sets=tiny_sets)
    assert r.exit_code == 2 and "chapter1.tex" in r.output and "Traceback" not in r.output
    assert (out / "chapter1.tex").read_text(encoding="utf-8") == "precious"
    assert (out / "summary.json").read_text(encoding="utf-8") == "{}"


def test_force_never_wipes_hidden_foreign_files(cli, tiny_sets, tmp_path):
    """A hidden file or folder (.git, .env) is not a run's file either: --force must not delete it."""
    out = tmp_path / "project"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (out / "config.yaml").write_text("name: x\n", encoding="utf-8")
    r = _run(cli, out, "--force", tiny_sets=tiny_sets)
    assert (out / ".git" / "HEAD").is_file(), (
        "--force deleted a hidden folder that is not part of a run"
    )
    assert r.exit_code == 2


def test_out_must_be_a_folder(cli, tiny_sets, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x", encoding="utf-8")
    r = _run(cli, f, "--force", tiny_sets=tiny_sets)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f.read_text(encoding="utf-8") == "x"


def test_run_files_list_covers_what_a_run_writes(cli, tiny_sets, tmp_path):
    out = tmp_path / "run"
    assert _run(cli, out, "--set", "output.lineage=true", tiny_sets=tiny_sets).exit_code == 0
    assert {p.name for p in out.iterdir()} <= RUN_FILES


# ------------------------------------------------------------------ init
def test_init_prints_and_writes_the_template(cli, tmp_path):
    r = cli("init")
    assert r.exit_code == 0 and r.stdout.startswith("# yaml-language-server: $schema=")
    assert r.stdout.splitlines()[1].startswith("# evosim world file")
    f = tmp_path / "mine.yaml"
    r = cli("init", "-o", f)
    assert r.exit_code == 0 and f.read_text(encoding="utf-8") == cli("init").stdout
    r = cli("init", "-o", f)
    assert r.exit_code == 2 and "already exists" in r.output and "Traceback" not in r.output
    r = cli("init", "--parameters")
    assert r.exit_code == 0 and r.stdout.startswith("| key | default | meaning |")
