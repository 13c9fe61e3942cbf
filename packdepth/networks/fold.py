"""A PackNet packing layer's Conv3d and Conv2d folded into one convolution: same function, fewer
multiply-adds.

A packing layer (:class:`~packdepth.networks.layers.PackLayer3d`, packnet-sfm ``PackLayer3d``,
Guizilini et al., "3D Packing for Self-Supervised Monocular Depth Estimation", CVPR 2020) runs

    y = Space2Depth(x)                      [B,P,h,w],  P = 4·C
    z = Conv3d(1→d, 3x3x3, zero pad 1)(y)   [B,d,P,h,w] → [B,d·P,h,w]
    o = Conv2d(d·P → C, k)(ZeroPad(k//2)(z)) → GroupNorm → ELU

with nothing non-linear between the Conv3d and the Conv2d. Their composition is one Conv2d over
``y`` (P channels, kernel k+2, zero pad k//2+1) whose kernel is the Conv2d kernel convolved with
the Conv3d kernel along (channel, row, column), summed over the d features — 2.9x (k = 3) to 4.1x
(k = 5) fewer multiply-adds than the Conv3d and the d·P-channel Conv2d together. Two things keep
it exact rather than approximate:

- **The bias.** The Conv2d pads ``z`` with zeros, not with the Conv3d's bias, so the Conv3d bias
  reaches an output pixel only through the kernel taps that land inside the image: a bias *map*
  ``b2 + Conv2d(ones [1,1,h,w], Σ_c W2·b3, pad k//2)``, constant in the interior.
- **The border ring.** The single folded convolution behaves as if ``z`` were also computed one
  pixel outside the image (where the Conv3d's 3x3 window still touches the image's first or last
  row or column) and fed to the Conv2d, whereas the reference feeds zeros there. Those ring values
  depend only on ``y``'s border rows and columns, so their contribution is removed exactly by
  four thin convolutions (one per side, over one row or column of ``y``, kernel folded the same
  way) and the four corners, which the row and the column corrections both removed, added back.

The fold is differentiable (a matrix product of the two kernels' entries), so gradients through
a folded layer reach the original parameters. Training nevertheless runs the reference layers:
folding at every step costs time in proportion to the weights (PackNet01's pack5 Conv2d alone
holds 75 M), the saving grows with the pixels, and at CPU training sizes (96x320, batch 1-4)
the fold made a PackNet01 step 2x slower and a PackNetSmall step only 6 % faster under bf16.

The unpacking layer (packnet-sfm ``UnpackLayer3d``) cannot be folded the same way: its Conv2d is
followed by GroupNorm and ELU before the Conv3d. What follows its Conv3d (reshape, PixelShuffle,
concatenation with the skip, zero pad, the 3x3 ``iconv`` Conv2d) is linear, but folding it
hardly pays: the 3x3 Conv2d at full resolution over ``cout`` channels becomes, for each of the
4 PixelShuffle phases, a 4x4 Conv2d at half resolution over the Conv3d's ``4·cout/d`` input
channels — ``64·cout/d`` against ``36·cout`` multiply-adds per half-resolution pixel and output
channel: 11 % fewer for d = 8 (before the border corrections it would need too), 78 % more for
d = 4. Its Conv3d runs as a grouped Conv2d instead
(:class:`packdepth.networks.fused.FusedUnpackLayer`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from packdepth.networks.layers import PackLayer3d


class PackFold(NamedTuple):
    """The folded weights of one packing layer (C outputs, P = 4·C packed channels, r = k//2).

    Attributes:
        kernel: ``[C,P,k+2,k+2]`` the folded convolution (Conv2d ∘ Conv3d, linear part).
        bias: ``[C]`` the Conv2d's bias.
        bias_kernel: ``[C,1,k,k]`` ``Σ_{d,c} W2[o,d,c]·b3[d]``: the Conv3d bias seen through
            the Conv2d, applied to the image's footprint only.
        top, bottom: ``[C·r,P,1,k+2]`` the ring row above / below the image seen by output
            rows ``0..r-1`` / ``h-1..h-r`` (row-major: output row index before C).
        left, right: ``[C·r,P,k+2,1]`` the same for the ring columns.
        corners: ``[4,C·r·r,P]`` the four ring corners (top-left, top-right, bottom-left,
            bottom-right) seen by the ``r x r`` output corner blocks.
    """

    kernel: Tensor
    bias: Tensor
    bias_kernel: Tensor
    top: Tensor
    bottom: Tensor
    left: Tensor
    right: Tensor
    corners: Tensor


@functools.lru_cache(maxsize=8)
def _tap_table(k: int) -> tuple[Tensor, tuple[int, ...]]:
    """Which Conv3d spatial tap (``u·3 + v``; 9 = none) each fold column takes from each
    Conv2d tap ``(p, q)``: ``[k·k, n]``, and the column counts of the parts (see
    :func:`fold_pack`).

    Columns: the kernel ``(I, J)``; the top / bottom ring rows ``(i, J)``; the left / right ring
    columns ``(j, I)``; the corners ``(corner, i, j)``; with ``I, J < k+2`` and ``i, j < r``.
    Output row ``i < r`` sees ring row -1 through Conv2d tap ``r-1-i`` and the Conv3d's bottom
    taps (``u = 2``, which reach the image's first row); output row ``h-1-m`` sees ring row ``h``
    through tap ``r+1+m`` and the top taps (``u = 0``). Columns alike with ``q`` and ``v``.
    """
    r, a = k // 2, k + 2
    near = [r - 1 - i for i in range(r)]  # Conv2d tap reaching the ring before, per band index
    far = [r + 1 + m for m in range(r)]  # ... reaching the ring after

    def tap(u: int, v: int) -> int:
        return u * 3 + v if 0 <= u < 3 and 0 <= v < 3 else 9

    parts: list[list[Callable[[int, int], int]]] = [
        [lambda p, q, I=I, J=J: tap(I - p, J - q) for I in range(a) for J in range(a)]]
    for taps, u in ((near, 2), (far, 0)):  # top, bottom: (band index, J)
        parts.append([lambda p, q, t=t, J=J, u=u: tap(u, J - q) if p == t else 9
                      for t in taps for J in range(a)])
    for taps, v in ((near, 2), (far, 0)):  # left, right: (band index, I)
        parts.append([lambda p, q, t=t, I=I, v=v: tap(I - p, v) if q == t else 9
                      for t in taps for I in range(a)])
    corners = []
    for rows, u in ((near, 2), (far, 0)):
        for cols, v in ((near, 2), (far, 0)):
            corners += [lambda p, q, s=s, t=t, u=u, v=v: tap(u, v) if (p, q) == (s, t) else 9
                        for s in rows for t in cols]
    parts.append(corners)
    columns = [column for part in parts for column in part]
    table = torch.tensor([[column(p, q) for column in columns] for p in range(k)
                          for q in range(k)])
    return table, tuple(len(part) for part in parts)


def fold_pack(layer: PackLayer3d, dtype: torch.dtype | None = None,
              chunk_elements: int = 1 << 24) -> PackFold:
    """Fold ``layer``'s Conv3d and Conv2d into a :class:`PackFold` (differentiable).

    Every part of the fold is a sum over the d features and the Conv3d's channel taps of
    Conv2d-kernel entries times Conv3d-kernel entries; all parts come from one matrix product
    of the Conv2d kernel ``[C·P, d·k·k]`` with a ``[d·k·k, 3·n]`` matrix of Conv3d entries
    (:func:`_tap_table`), followed by the sum over the channel taps (``c' = c + t - 1``, zero
    beyond the ends: the Conv3d's channel padding). The kernel is read once, in chunks of output
    channels (``chunk_elements`` bounds the product's size).

    Args:
        layer: the packing layer.
        dtype: computation and result dtype (default: the layer's).

    Raises:
        ValueError: a layer whose Conv2d has an even or non-square kernel or a stride.
    """
    conv = layer.conv.conv_base
    k = conv.kernel_size[0]
    if conv.kernel_size != (k, k) or k % 2 == 0 or conv.stride != (1, 1):
        raise ValueError(f"cannot fold a {conv.kernel_size} kernel with stride {conv.stride}")
    dtype = dtype or conv.weight.dtype
    w3, b3 = layer.conv3d.weight.to(dtype), layer.conv3d.bias.to(dtype)
    d, c_out, r, a = w3.shape[0], conv.out_channels, k // 2, k + 2
    w2 = conv.weight.view(c_out, d, -1, k, k)  # [C,d,P,k,k]
    p = w2.shape[2]
    table, sizes = _tap_table(k)
    taps = torch.cat([w3.reshape(d, 3, 9), w3.new_zeros(d, 3, 1)], 2)[:, :, table.to(w3.device)]
    taps = taps.permute(0, 2, 1, 3).reshape(d * k * k, 3 * sum(sizes))  # [d·k·k, 3·n]
    step = max(1, chunk_elements // (p * taps.shape[1]))
    pieces, bias_kernels = [], []
    for start in range(0, c_out, step):
        chunk = w2[start:start + step].to(dtype).transpose(1, 2)  # [m,P,d,k,k]
        m = chunk.shape[0]
        bias_kernels.append(torch.einsum("mcdpq,d->mpq", chunk, b3))
        y = torch.matmul(chunk.reshape(m, p, d * k * k), taps).view(m, p, 3, -1)
        piece = y[:, :, 1].clone()  # [m,P,n]
        piece[:, :-1] += y[:, 1:, 0]
        piece[:, 1:] += y[:, :-1, 2]
        pieces.append(piece)
    g = torch.cat(pieces)
    kernel, top, bottom, left, right, corners = torch.split(g, sizes, dim=2)

    def band(part: Tensor, shape: tuple[int, int]) -> Tensor:  # [C,P,r·a] → [C·r,P,*shape]
        return part.view(c_out, p, r, a).transpose(1, 2).reshape(c_out * r, p, *shape)

    return PackFold(
        kernel=kernel.reshape(c_out, p, a, a),
        bias=conv.bias.to(dtype),
        bias_kernel=torch.cat(bias_kernels).unsqueeze(1),
        top=band(top, (1, a)),
        bottom=band(bottom, (1, a)),
        left=band(left, (a, 1)),
        right=band(right, (a, 1)),
        corners=corners.reshape(c_out, p, 4, r * r).permute(2, 0, 3, 1).reshape(4, -1, p),
    )


def _band(out: Tensor, band: Tensor, dim: int, at_end: bool, sign: float) -> None:
    """Add ``sign·band`` (``r`` entries along ``dim``, index 0 nearest the border) to the first
    (or, ``at_end``, the last) ``r`` entries of ``out`` along ``dim``, clipped to its size."""
    n = min(band.shape[dim], out.shape[dim])
    band = band.narrow(dim, 0, n)
    if at_end:
        band = band.flip(dim)
    target = out.narrow(dim, out.shape[dim] - n if at_end else 0, n)
    target.add_(band, alpha=sign)


def folded_pack_conv(packed: Tensor, fold: PackFold) -> Tensor:
    """The Conv3d → Conv2d of a packing layer from its fold, exactly (before GroupNorm).

    Args:
        packed: ``[B,P,h,w]`` the Space2Depth output.
        fold: from :func:`fold_pack`.

    Returns:
        ``[B,C,h,w]``, equal to the layer's ``conv.conv_base(conv.pad(conv3d(...)))`` up to
        float rounding.
    """
    c_out, _, kk, _ = fold.kernel.shape
    r = (kk - 2) // 2
    b, _, h, w = packed.shape
    ones = packed.new_ones(1, 1, h, w)
    out = F.conv2d(packed, fold.kernel, fold.bias, padding=r + 1)
    out += F.conv2d(ones, fold.bias_kernel, padding=r)
    top = F.conv2d(packed[:, :, :1], fold.top, padding=(0, r + 1)).view(b, c_out, r, w)
    bottom = F.conv2d(packed[:, :, -1:], fold.bottom, padding=(0, r + 1)).view(b, c_out, r, w)
    left = F.conv2d(packed[..., :1], fold.left, padding=(r + 1, 0)).view(b, c_out, r, h)
    right = F.conv2d(packed[..., -1:], fold.right, padding=(r + 1, 0)).view(b, c_out, r, h)
    _band(out, top, 2, False, -1.0)
    _band(out, bottom, 2, True, -1.0)
    _band(out, left.transpose(2, 3), 3, False, -1.0)
    _band(out, right.transpose(2, 3), 3, True, -1.0)
    corner_pixels = torch.stack([packed[:, :, 0, 0], packed[:, :, 0, -1], packed[:, :, -1, 0],
                                 packed[:, :, -1, -1]])  # [4,B,P]
    corners = torch.bmm(corner_pixels, fold.corners.transpose(1, 2)).view(4, b, c_out, r, r)
    for index, (at_bottom, at_right) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        block = corners[index]
        rows_at = out.narrow(2, h - min(r, h) if at_bottom else 0, min(r, h))
        block = block.narrow(2, 0, min(r, h))
        block = block.flip(2) if at_bottom else block
        _band(rows_at, block, 3, bool(at_right), 1.0)
    return out
