"""The 8 perception rays of a mover as vectors (LLVM IR through a numba intrinsic).

numba's LLVM does not vectorise the rays by itself: each step of a ray reads a cell of its own
row (a gather), and a loop over 8 lanes of small arrays stays scalar. :func:`rays8` emits the
vector code directly: per distance two ``llvm.masked.gather`` of 4 cells each, then the same
IEEE operations, in the same order, as the scalar code it replaces (``float32 -> float64``,
``fabs``, the habitat's efficiency chosen by the sign, two multiplications, a running maximum
``w if w > seen else seen``, as numba's ``max(seen, w)``), so the results are the same bits.
Two 4-lane vectors (256-bit registers), not one of 8: on the Intel Xeon where this was measured
the 512-bit version made ``sense_and_move`` 1.2x slower, the 256-bit one 1.09x faster
(docs/benchmarks.md, sixth round). Without vector gathers LLVM loads the lanes one by one (same
results).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

_LANES = 8  # rays
_W = 4  # lanes per vector (two vectors of 4: 256-bit registers, no 512-bit ones)
_I1 = ir.IntType(1)
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_VD = ir.VectorType(ir.DoubleType(), _W)
_VF = ir.VectorType(ir.FloatType(), _W)
_VI = ir.VectorType(_I64, _W)
_VP = ir.VectorType(ir.PointerType(ir.FloatType()), _W)


def _splat(builder: ir.IRBuilder, value: ir.Value, vty: ir.VectorType) -> ir.Value:
    """``value`` in every lane."""
    v = builder.insert_element(ir.Constant(vty, ir.Undefined), value, ir.Constant(_I32, 0))
    zeros = ir.Constant(ir.VectorType(_I32, _W), [0] * _W)
    return builder.shuffle_vector(v, ir.Constant(vty, ir.Undefined), zeros)


def _pack(builder: ir.IRBuilder, tup: ir.Value, vty: ir.VectorType, first: int) -> ir.Value:
    """Items ``first .. first + _W - 1`` of a numba UniTuple as one vector."""
    v = ir.Constant(vty, ir.Undefined)
    for k in range(_W):
        v = builder.insert_element(v, builder.extract_value(tup, first + k), ir.Constant(_I32, k))
    return v


@intrinsic
def rays8(typingctx, fp, b, offs, r, e_water, e_land, sd, seen):  # noqa: ARG001 (numba's signature)
    """Per ray d (lane d), ``seen[d]`` raised to the best food seen at distances 2..``r``.

    Args (as numba values):
        fp: the sight grid, flat (float32, C-contiguous; food signed by habitat).
        b: the mover's flat index in ``fp``.
        offs: the flat offset of one step along each ray (a tuple of 8 int64).
        r: the perception radius (cells).
        e_water, e_land: the mover's efficiency on water and on land.
        sd: ``sight_discount``; a cell k steps away counts ``sd**(k-1)``, the power taken as
            repeated products from ``sd`` (as the scalar loop does).
        seen: the food seen so far along each ray (a tuple of 8 float64: the first cells').

    Returns:
        A tuple of 8 float64: ``max(seen[d], (|v| * e(v)) * sd**(k-1))`` over k = 2..r, with
        ``v = fp[b + k * offs[d]]`` and ``e(v)`` = ``e_land`` if ``v >= 0`` else ``e_water``.
    """
    if not (
        isinstance(fp, types.Array)
        and fp.dtype == types.float32
        and fp.ndim == 1
        and isinstance(offs, types.UniTuple)
        and offs.count == _LANES
        and isinstance(offs.dtype, types.Integer)
        and isinstance(seen, types.UniTuple)
        and seen.count == _LANES
        and seen.dtype == types.float64
    ):
        raise TypingError("rays8 takes a 1-d float32 grid, 8 integer offsets and 8 float64")
    ret = types.UniTuple(types.float64, _LANES)
    sig = ret(fp, types.int64, types.UniTuple(types.int64, _LANES), types.int64, types.float64,
              types.float64, types.float64, seen)  # fmt: skip

    def codegen(context, builder, signature, args):
        fp_v, b_v, offs_v, r_v, ew_v, el_v, sd_v, seen_v = args
        data = cgutils.create_struct_proxy(signature.args[0])(context, builder, value=fp_v).data
        base = _splat(builder, builder.ptrtoint(data, _I64), _VI)
        halves = range(0, _LANES, _W)
        offv = [_pack(builder, offs_v, _VI, h) for h in halves]
        seen0 = [_pack(builder, seen_v, _VD, h) for h in halves]
        ew = _splat(builder, ew_v, _VD)
        el = _splat(builder, el_v, _VD)
        bv = _splat(builder, b_v, _VI)
        zero = ir.Constant(_VD, [0.0] * _W)
        four = ir.Constant(_VI, [4] * _W)  # bytes per float32
        all_lanes = ir.Constant(ir.VectorType(_I1, _W), [1] * _W)
        mod = builder.module
        gather = cgutils.get_or_insert_function(
            mod, ir.FunctionType(_VF, [_VP, _I32, ir.VectorType(_I1, _W), _VF]),
            f"llvm.masked.gather.v{_W}f32.v{_W}p0",
        )  # fmt: skip
        fabs = cgutils.get_or_insert_function(
            mod, ir.FunctionType(_VD, [_VD]), f"llvm.fabs.v{_W}f64"
        )
        entry = builder.basic_block
        loop = builder.append_basic_block("rays.loop")
        done = builder.append_basic_block("rays.done")
        two = ir.Constant(_I64, 2)
        builder.cbranch(builder.icmp_signed("<=", two, r_v), loop, done)
        builder.position_at_end(loop)
        k = builder.phi(_I64)
        disc = builder.phi(ir.DoubleType())
        acc = [builder.phi(_VD) for _ in halves]
        kv = _splat(builder, k, _VI)
        dv = _splat(builder, disc, _VD)
        nxt = []
        for h in range(len(acc)):
            idx = builder.add(bv, builder.mul(kv, offv[h]))
            ptrs = builder.inttoptr(builder.add(base, builder.mul(idx, four)), _VP)
            v = builder.call(
                gather, [ptrs, ir.Constant(_I32, 4), all_lanes, ir.Constant(_VF, ir.Undefined)]
            )
            vd = builder.fpext(v, _VD)
            e = builder.select(builder.fcmp_ordered(">=", vd, zero), el, ew)
            w = builder.fmul(builder.fmul(builder.call(fabs, [vd]), e), dv)
            nxt.append(builder.select(builder.fcmp_ordered(">", w, acc[h]), w, acc[h]))
        k_next = builder.add(k, ir.Constant(_I64, 1))
        disc_next = builder.fmul(disc, sd_v)
        k.add_incoming(two, entry)
        k.add_incoming(k_next, loop)
        disc.add_incoming(sd_v, entry)
        disc.add_incoming(disc_next, loop)
        for h in range(len(acc)):
            acc[h].add_incoming(seen0[h], entry)
            acc[h].add_incoming(nxt[h], loop)
        builder.cbranch(builder.icmp_signed("<=", k_next, r_v), loop, done)
        builder.position_at_end(done)
        res = [builder.phi(_VD) for _ in halves]  # (phi nodes first in their block)
        for h in range(len(acc)):
            res[h].add_incoming(seen0[h], entry)
            res[h].add_incoming(nxt[h], loop)
        out = ir.Constant(context.get_value_type(ret), ir.Undefined)
        for h in range(len(acc)):
            for d in range(_W):
                item = builder.extract_element(res[h], ir.Constant(_I32, d))
                out = builder.insert_value(out, item, h * _W + d)
        return out

    return sig, codegen
