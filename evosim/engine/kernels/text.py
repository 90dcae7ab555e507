"""The recorder's CSV lines (:func:`csv_lines`), floats byte for byte as Python's ``repr`` writes them.

Python's ``repr`` of a float is its shortest round-trip text (``_Py_dg_dtoa`` in mode 0: the
fewest significant digits that read back to the same double, the closest such digits to its
exact value), written in fixed notation when the decimal point falls within 16 digits of the
first digit and in exponent notation otherwise (``decpt <= -4 or decpt > 16``: ``1e-05``,
``0.0001``, ``1e+16``, ``123.0``). The digits here come from the Ryu algorithm (Ulf Adams,
"Ryū: fast float-to-string conversion", PLDI 2018; the ``d2s.c`` of its reference
implementation), which gives the same shortest, closest digits; the notation follows CPython's
``format_float_short``. About ten times faster than ``repr`` on the recorder's values, and a test
holds it to ``repr`` on millions of doubles.

All integer arithmetic is unsigned 64-bit (``np.uint64`` everywhere: numba turns a mix of
signed and unsigned operands into floats); the 128-bit products are built from 32-bit halves.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.engine.kernels.conf import JIT, kernel

_POW5_INV_BITCOUNT = 125
_POW5_BITCOUNT = 125
_U64 = (1 << 64) - 1


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Ryu's tables (its ``d2s_full_table.h``), computed exactly with Python integers: per q, the
    125-bit approximations of 2**k / 5**q (rounded up) and of 5**i (rounded down), as (low, high)."""
    inv = np.zeros((342, 2), np.uint64)
    for q in range(342):
        pow5 = 5**q
        v = (1 << (pow5.bit_length() - 1 + _POW5_INV_BITCOUNT)) // pow5 + 1
        inv[q] = (v & _U64, v >> 64)
    pos = np.zeros((326, 2), np.uint64)
    for i in range(326):
        pow5 = 5**i
        shift = pow5.bit_length() - _POW5_BITCOUNT
        v = pow5 >> shift if shift >= 0 else pow5 << -shift
        pos[i] = (v & _U64, v >> 64)
    return inv, pos


POW5_INV_SPLIT, POW5_SPLIT = _tables()

_M32 = np.uint64(0xFFFFFFFF)
_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U2 = np.uint64(2)
_U4 = np.uint64(4)
_U5 = np.uint64(5)
_U10 = np.uint64(10)
_U32 = np.uint64(32)
_U64S = np.uint64(64)


@nb.njit(inline="always", **JIT)
def _umul128(a, b):
    """The 128-bit product of two uint64 as (high, low)."""
    a_lo = a & _M32
    a_hi = a >> _U32
    b_lo = b & _M32
    b_hi = b >> _U32
    b00 = a_lo * b_lo
    b01 = a_lo * b_hi
    b10 = a_hi * b_lo
    b11 = a_hi * b_hi
    mid1 = b10 + (b00 >> _U32)
    mid2 = b01 + (mid1 & _M32)
    high = b11 + (mid1 >> _U32) + (mid2 >> _U32)
    low = (mid2 << _U32) | (b00 & _M32)
    return high, low


@nb.njit(inline="always", **JIT)
def _mul_shift(m, mul_lo, mul_hi, j):
    """``(m * mul) >> j`` for a 128-bit ``mul`` and 64 < j < 128 (Ryu's ``mulShift64``)."""
    high1, low1 = _umul128(m, mul_hi)
    high0, _low0 = _umul128(m, mul_lo)
    s = high0 + low1
    if s < high0:
        high1 += _U1
    dist = np.uint64(j - 64)
    return (high1 << (_U64S - dist)) | (s >> dist)


@nb.njit(inline="always", **JIT)
def _pow5bits(e):
    """ceil(log2(5**e)) for e > 0 (1 for e = 0)."""
    return ((e * 1217359) >> 19) + 1


@nb.njit(inline="always", **JIT)
def _multiple_of_pow5(value, p):
    """Whether ``value`` (uint64) is divisible by 5**p."""
    count = 0
    while value > _U0 and value % _U5 == _U0:
        value //= _U5
        count += 1
    return count >= p


@nb.njit(inline="always", **JIT)
def _shortest(bits):
    """Ryu's ``d2d``: the shortest decimal ``digits * 10**exponent`` of the positive finite double
    with IEEE ``bits`` (sign cleared). Returns (digits, exponent)."""
    mantissa = bits & np.uint64((1 << 52) - 1)
    ieee_exp = np.int64(bits >> np.uint64(52))
    if ieee_exp == 0:
        e2 = 1 - 1023 - 52 - 2
        m2 = mantissa
    else:
        e2 = ieee_exp - 1023 - 52 - 2
        m2 = (_U1 << np.uint64(52)) | mantissa
    accept_bounds = (m2 & _U1) == _U0
    mv = _U4 * m2
    mm_shift = _U1 if (mantissa != _U0 or ieee_exp <= 1) else _U0
    # the interval's bounds and the value, times 4, scaled by 10**-e10 (Ryu's mulShiftAll64)
    if e2 >= 0:
        q = ((e2 * 78913) >> 18) - (1 if e2 > 3 else 0)  # log10(2**e2), less one past 3
        e10 = q
        lo = POW5_INV_SPLIT[q, 0]
        hi = POW5_INV_SPLIT[q, 1]
        j = -e2 + q + _POW5_INV_BITCOUNT + _pow5bits(q) - 1
    else:
        q = (((-e2) * 732923) >> 20) - (1 if -e2 > 1 else 0)  # log10(5**-e2), less one past 1
        e10 = q + e2
        lo = POW5_SPLIT[-e2 - q, 0]
        hi = POW5_SPLIT[-e2 - q, 1]
        j = q - (_pow5bits(-e2 - q) - _POW5_BITCOUNT)
    vr = _mul_shift(mv, lo, hi, j)
    vp = _mul_shift(mv + _U2, lo, hi, j)
    vm = _mul_shift(mv - _U1 - mm_shift, lo, hi, j)
    # whether the digits dropped below are all zeros (exact values: ties and the lower bound)
    vm_trailing_zeros = False
    vr_trailing_zeros = False
    if e2 >= 0:
        if q <= 21:
            if mv % _U5 == _U0:
                vr_trailing_zeros = _multiple_of_pow5(mv, q)
            elif accept_bounds:
                vm_trailing_zeros = _multiple_of_pow5(mv - _U1 - mm_shift, q)
            elif _multiple_of_pow5(mv + _U2, q):
                vp -= _U1
    elif q <= 1:
        vr_trailing_zeros = True
        if accept_bounds:
            vm_trailing_zeros = mm_shift == _U1
        else:
            vp -= _U1
    elif q < 63:
        vr_trailing_zeros = (mv & ((_U1 << np.uint64(q)) - _U1)) == _U0
    removed = 0
    last = _U0
    if vm_trailing_zeros or vr_trailing_zeros:  # the general case (rare)
        # drop digits while the interval holds two candidates, then (Ryu's second loop) while the
        # exact lower bound ends in zeros; the first condition, once false, stays false
        while vp // _U10 > vm // _U10 or (vm_trailing_zeros and vm % _U10 == _U0):
            vm_trailing_zeros = vm_trailing_zeros and vm % _U10 == _U0
            vr_trailing_zeros = vr_trailing_zeros and last == _U0
            last = vr % _U10
            vr //= _U10
            vp //= _U10
            vm //= _U10
            removed += 1
        if vr_trailing_zeros and last == _U5 and vr % _U2 == _U0:
            last = _U4  # round to even: the exact value ends in 5 followed by zeros
        up = (vr == vm and (not accept_bounds or not vm_trailing_zeros)) or last >= _U5
        return vr + (_U1 if up else _U0), e10 + removed
    round_up = False
    while vp // _U10 > vm // _U10:
        round_up = vr % _U10 >= _U5
        vr //= _U10
        vp //= _U10
        vm //= _U10
        removed += 1
    return vr + (_U1 if (vr == vm or round_up) else _U0), e10 + removed


@nb.njit(inline="always", **JIT)
def _n_digits(u):
    """How many decimal digits the unsigned integer ``u`` has (1 for 0)."""
    n = 1
    while u >= _U10:
        u //= _U10
        n += 1
    return n


@nb.njit(inline="always", **JIT)
def _put_digits(out, k, digits, n_digits):
    """Write the ``n_digits`` decimal digits of ``digits`` at ``out[k:]``; returns the new end."""
    for t in range(n_digits - 1, -1, -1):
        out[k + t] = np.uint8(48 + digits % _U10)
        digits //= _U10
    return k + n_digits


@nb.njit(**JIT)
def write_float(out, k, bits):
    """``repr`` of the float64 with IEEE ``bits`` (uint64) at ``out[k:]`` (ASCII, at most 24
    bytes); returns the new end. A non-finite value (``nan``, ``inf``) writes nothing."""
    if (bits >> np.uint64(52)) & np.uint64(0x7FF) == np.uint64(0x7FF):
        return k
    if bits >> np.uint64(63):
        out[k] = 45  # -
        k += 1
        bits &= np.uint64((1 << 63) - 1)
    if bits == _U0:
        out[k] = 48
        out[k + 1] = 46
        out[k + 2] = 48
        return k + 3
    digits, exp = _shortest(bits)
    n = _n_digits(digits)
    decpt = exp + n  # the decimal point's place, counted from the first digit
    if decpt <= -4 or decpt > 16:  # d.ddde-XX
        _put_digits(out, k + 1, digits, n)
        out[k] = out[k + 1]
        if n > 1:
            out[k + 1] = 46  # .
            k += n + 1
        else:
            k += 1
        out[k] = 101  # e
        e = decpt - 1
        out[k + 1] = 45 if e < 0 else 43
        e = -e if e < 0 else e
        k += 2
        if e >= 100:
            out[k] = np.uint8(48 + e // 100)
            k += 1
        out[k] = np.uint8(48 + (e // 10) % 10)
        out[k + 1] = np.uint8(48 + e % 10)
        return k + 2
    if decpt <= 0:  # 0.000ddd
        out[k] = 48
        out[k + 1] = 46
        k += 2
        for _ in range(-decpt):
            out[k] = 48
            k += 1
        return _put_digits(out, k, digits, n)
    if decpt >= n:  # ddd000.0
        k = _put_digits(out, k, digits, n)
        for _ in range(decpt - n):
            out[k] = 48
            k += 1
        out[k] = 46
        out[k + 1] = 48
        return k + 2
    _put_digits(out, k + 1, digits, n)  # dd.ddd: the first decpt digits move one place left
    for t2 in range(decpt):
        out[k + t2] = out[k + 1 + t2]
    out[k + decpt] = 46
    return k + n + 1


@nb.njit(inline="always", **JIT)
def _write_int(out, k, v):
    """The decimal text of the integer ``v`` (int64, ``-`` first if negative) at ``out[k:]``;
    returns the new end."""
    if v < 0:
        out[k] = 45  # -
        k += 1
    u = np.uint64(-v) if v < 0 else np.uint64(v)  # (|v| as unsigned: no overflow at the minimum)
    return _put_digits(out, k, u, _n_digits(u))


@kernel
def csv_lines(tick, species, names, name_end, bits, is_int, out):
    """CSV lines of the time series into ``out`` (uint8); returns the number of bytes written.

    Line r is ``tick``, ``species[r]``, that species' name as CSV text (bytes
    ``names[name_end[s - 1]:name_end[s]]``, from 0 for s = 0), then the values of row r of a
    float64 matrix (``bits``, viewed as uint64): an integer's digits where ``is_int`` is set
    (the value is a whole number), else its ``repr`` (nothing for a non-finite value); fields
    separated by commas, the line ended by a newline. ``out`` needs at most 21 bytes for each
    integer, 25 for each value with its comma, and the names' bytes.
    """
    values = bits.view(np.float64)
    k = 0
    for r in range(bits.shape[0]):
        k = _write_int(out, k, np.int64(tick))
        out[k] = 44  # ,
        s = np.int64(species[r])
        k = _write_int(out, k + 1, s)
        out[k] = 44
        k += 1
        for j in range(name_end[s - 1] if s > 0 else 0, name_end[s]):
            out[k] = names[j]
            k += 1
        for c in range(bits.shape[1]):
            out[k] = 44
            k += 1
            if is_int[c]:
                k = _write_int(out, k, np.int64(values[r, c]))
            else:
                k = write_float(out, k, bits[r, c])
        out[k] = 10
        k += 1
    return k
