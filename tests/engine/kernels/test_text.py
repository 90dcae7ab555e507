"""The time series' CSV lines: their floats against Python's ``repr``, byte for byte (through
:func:`tests.helpers.float_texts`), and whole lines against the f-string the recorder wrote before."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from evosim.engine.runtime import csv_lines
from tests.helpers import float_texts


def reference(a: np.ndarray) -> list[str]:
    """What the recorder wrote before the kernel: ``repr`` of each value, non-finite ones blank."""
    return [
        ",".join(repr(v) if np.isfinite(v) else "" for v in row)
        for row in a.astype(np.float64).tolist()
    ]


def assert_same(a: np.ndarray) -> None:
    got, want = float_texts(a), reference(a)
    assert len(got) == len(want)
    bad = [(g, w) for g, w in zip(got, want) if g != w]
    assert not bad, bad[:3]


def test_notation_boundaries_and_specials():
    values = [
        0.0, -0.0, 1.0, -1.0, 0.1, 0.3, 2 / 3, 123.0, 100.0, 1e-5, 1e-4, 0.0001234, 0.00012,
        9.999999999999999e-05, 1e15, 1e16, 1.5e16, 9999999999999998.0, 2e16 + 8, 1e22, 1e23,
        1e100, 1e-100, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
        9007199254740993.0, 0.5028747656742731, np.nan, np.inf, -np.inf,
    ]  # fmt: skip
    a = np.array([values])
    assert_same(a)
    texts = float_texts(a)[0].split(",")
    assert texts[:6] == ["0.0", "-0.0", "1.0", "-1.0", "0.1", "0.3"]
    assert texts[9:12] == ["1e-05", "0.0001", "0.0001234"]
    assert texts[-3:] == ["", "", ""]  # non-finite values are blank


def test_powers_of_two_and_ten_and_their_neighbours():
    p2 = np.ldexp(1.0, np.arange(-1074, 1024))
    assert_same(np.stack([p2, np.nextafter(p2, np.inf), np.nextafter(p2, 0.0), -p2], axis=1))
    p10 = np.array([10.0**k for k in range(-323, 309)])
    assert_same(np.stack([p10, np.nextafter(p10, np.inf), np.nextafter(p10, 0.0)], axis=1))


@pytest.mark.parametrize("seed", [0, 1])
def test_random_doubles(seed):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**64 - 1, size=(2000, 50), dtype=np.uint64)
    assert_same(bits.view(np.float64))  # every exponent, subnormals, nan and inf included
    subnormal = rng.integers(1, 2**52, size=(200, 50), dtype=np.uint64).view(np.float64)
    assert_same(subnormal)
    short = np.round(
        rng.random((2000, 50)) * 10.0 ** rng.integers(-6, 18, size=(2000, 50)), int(seed) + 3
    )
    assert_same(short)  # few digits: the exact-ties and trailing-zeros paths
    assert_same(rng.random((2000, 50)).astype(np.float32).astype(np.float64))  # float32 genes
    assert_same(rng.integers(-(10**6), 10**6, size=(500, 50)).astype(np.float64))


def test_shapes_and_refusals():
    assert float_texts(np.zeros((0, 3))) == []
    assert float_texts(np.zeros((2, 0))) == ["", ""]
    assert float_texts(np.arange(6.0).reshape(2, 3)[:, ::2]) == ["0.0,2.0", "3.0,5.0"]
    with pytest.raises(TypeError):
        float_texts(np.zeros((2, 2), np.float32))
    with pytest.raises(TypeError):
        float_texts(np.zeros(3))


def test_csv_lines_equal_the_former_f_string_rows():
    """Ticks, species ids, quoted names (commas, quotes, non-ASCII), integer columns (zero,
    large, negative) and float columns (non-finite blank): the bytes the recorder's f-string of
    ``repr`` texts wrote, and rows a csv reader splits into the same fields."""
    rng = np.random.default_rng(3)
    names = ["primate", 'say "hi"', "a,b", "Ünïcode", "", "x" * 40]
    quoted = []
    for name in names:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([name, ""])
        quoted.append(buf.getvalue()[:-2])
    encoded = [q.encode("utf-8") for q in quoted]
    blob = np.frombuffer(b"".join(encoded), np.uint8)
    ends = np.cumsum([len(e) for e in encoded]).astype(np.int64)
    rows = 50
    species = rng.integers(0, len(names), rows)
    ints = rng.integers(-5, 10**12, (rows, 3))
    ints[0] = [0, -(10**15), 2**52]
    floats = rng.normal(0.0, 1e3, (rows, 4)) * 10.0 ** rng.integers(-8, 8, (rows, 4))
    floats[1] = [np.nan, np.inf, -0.0, 1e-5]
    values = np.column_stack([ints[:, :2], floats, ints[:, 2:]]).astype(np.float64)
    is_int = np.array([1, 1, 0, 0, 0, 0, 1], np.uint8)
    got = csv_lines(1234, species, blob, ends, values, is_int)
    want = "".join(
        f"1234,{s},{quoted[s]},{a},{b},{f},{c}\n"
        for s, (a, b, c), f in zip(species.tolist(), ints.tolist(), reference(floats))
    )
    assert got == want
    parsed = list(csv.reader(io.StringIO(got)))
    assert [r[2] for r in parsed] == [names[s] for s in species]
    assert parsed[1][5:8] == ["", "", "-0.0"] and parsed[0][3:5] == ["0", str(-(10**15))]
    assert csv_lines(7, species[:0], blob, ends, values[:0], is_int) == ""
