"""Procedural textures: value noise, fractal noise and anti-aliased patterns.

Every function takes surface coordinates in metres (``a`` along a surface, ``b`` across or up it)
as 1-D float tensors ``[N]`` and a per-sample ``footprint`` ``[N]``: the width of one image pixel
on the surface, in metres. Detail finer than about two footprints fades to its mean (an analytic
pre-filter, like mip-mapping), so distant surfaces do not alias while near ones keep every octave.
Textures are functions of world-fixed coordinates only, hence identical in every frame.

All arithmetic is element-wise (no reductions, no matrix products), so results are bit-identical
between runs whatever the number of threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

TABLE_BITS = 8
TABLE_SIZE = 1 << TABLE_BITS


@dataclass(frozen=True)
class NoiseTable:
    """Random lattice values in ``[0, 1)``, repeating every ``TABLE_SIZE`` cells.

    Attributes:
        values: ``[TABLE_SIZE * TABLE_SIZE]`` float32, cell ``(i, j)`` at ``i * TABLE_SIZE + j``.
        corners: ``[TABLE_SIZE * TABLE_SIZE, 4]`` the values at ``(i, j), (i+1, j), (i, j+1),
            (i+1, j+1)`` (wrapped), so one gather fetches a whole noise cell.
    """

    values: Tensor
    corners: Tensor

    @classmethod
    def from_rng(cls, rng: np.random.Generator) -> NoiseTable:
        grid = rng.random((TABLE_SIZE, TABLE_SIZE), dtype=np.float32)
        corners = np.stack([grid, np.roll(grid, -1, 0), np.roll(grid, -1, 1),
                            np.roll(np.roll(grid, -1, 0), -1, 1)], -1)
        return cls(torch.from_numpy(grid.reshape(-1)),
                   torch.from_numpy(np.ascontiguousarray(corners.reshape(-1, 4))))

    @staticmethod
    def _index(ia: Tensor, ib: Tensor) -> Tensor:
        mask = TABLE_SIZE - 1
        return (ia & mask) * TABLE_SIZE + (ib & mask)

    def lattice(self, ia: Tensor, ib: Tensor) -> Tensor:
        """Value at integer lattice points ``[N]`` (any integers; wrapped)."""
        return torch.take(self.values, self._index(ia, ib))

    def cell_random(self, a: Tensor, b: Tensor, salt: int = 0) -> Tensor:
        """One uniform ``[0,1)`` value per unit cell of ``(a, b)`` (e.g. per brick or window)."""
        ia = torch.floor(a).long() * 7 + 3 * salt
        ib = torch.floor(b).long() * 13 + 5 + 11 * salt
        return self.lattice(ia, ib)


def value_noise(table: NoiseTable, a: Tensor, b: Tensor) -> Tensor:
    """Smooth value noise ``[N]`` in ``[0, 1)`` with unit lattice spacing (mean 0.5)."""
    fa, fb = torch.floor(a), torch.floor(b)
    ta, tb = a - fa, b - fb
    sa = ta * ta * (3.0 - 2.0 * ta)
    sb = tb * tb * (3.0 - 2.0 * tb)
    v00, v10, v01, v11 = table.corners.index_select(0, table._index(fa.long(), fb.long())).unbind(1)
    x0 = v00 + (v10 - v00) * sa
    x1 = v01 + (v11 - v01) * sa
    return x0 + (x1 - x0) * sb


def octave_weight(frequency: float, footprint: Tensor) -> Tensor:
    """How much of a pattern with ``frequency`` (cycles per metre) survives pixel sampling.

    1 up to a quarter cycle per pixel (``frequency * footprint <= 0.25``), fading linearly to 0
    at the Nyquist limit of half a cycle per pixel.
    """
    return (0.5 / (frequency * footprint) - 1.0).clamp(0.0, 1.0)


def fbm(
    table: NoiseTable,
    a: Tensor,
    b: Tensor,
    footprint: Tensor,
    frequency: float,
    octaves: int,
    gain: float = 0.5,
    stretch: float = 1.0,
) -> Tensor:
    """Fractal (multi-octave) value noise ``[N]``, mean 0.5, roughly within ``[0.15, 0.85]``.

    Fine octaves are evaluated only on the samples near enough to show them.

    Args:
        frequency: lowest octave, cycles per metre; each further octave doubles it.
        gain: amplitude ratio between consecutive octaves.
        stretch: ``b`` is divided by it, elongating the pattern along ``b`` (bark, streaks).
    """
    total = torch.zeros_like(a)
    norm, amplitude, freq = 0.0, 1.0, frequency
    b = b / stretch
    for octave in range(octaves):
        # samples whose footprint is too coarse for this octave get its mean (0.5): skip them
        active = footprint < 0.5 / freq
        count = int(active.sum())
        if count:
            shift = 17.31 * (octave + 1)
            if count > 0.6 * a.numel():
                weight = octave_weight(freq, footprint)
                n = value_noise(table, a * freq + shift, b * freq - shift)
                total = total + amplitude * weight * (n - 0.5)
            else:  # few samples are near enough: evaluate on those only
                index = active.nonzero().squeeze(1)
                weight = octave_weight(freq, footprint.index_select(0, index))
                n = value_noise(table, a.index_select(0, index) * freq + shift,
                                b.index_select(0, index) * freq - shift)
                total = total.index_add(0, index, amplitude * weight * (n - 0.5))
        norm += amplitude
        amplitude *= gain
        freq *= 2.0
    return 0.5 + total / norm


def box_band(x: Tensor, half_width: float | Tensor, footprint: Tensor) -> Tensor:
    """Coverage ``[N]`` in ``[0,1]`` of ``|x| < half_width``, box-filtered over one footprint."""
    half = footprint * 0.5
    lo = (x - half).clamp(min=-half_width)
    hi = (x + half).clamp(max=half_width)
    return ((hi - lo) / footprint).clamp(0.0, 1.0)


def pulses(
    x: Tensor, period: float | Tensor, centre: float | Tensor, half_width: float | Tensor,
    footprint: Tensor,
) -> Tensor:
    """Anti-aliased periodic bands: coverage ``[N]`` of ``|x - centre - k period| < half_width``.

    When the period shrinks from four to two footprints the result blends to the duty cycle
    ``2 half_width / period`` (the band pattern's mean), so no moiré appears in the distance.
    """
    shifted = x - centre
    local = shifted - period * torch.round(shifted / period)
    sharp = box_band(local, half_width, footprint)
    weight = (0.5 * period / footprint - 1.0).clamp(0.0, 1.0)
    mean = 2.0 * half_width / period
    return mean + (sharp - mean) * weight


@dataclass(frozen=True)
class Bricks:
    """A running-bond brick pattern evaluated at ``[N]`` points.

    Attributes:
        mortar: ``[N]`` coverage of mortar joints (anti-aliased).
        brick_random: ``[N]`` a uniform random value per brick (for colour variation).
    """

    mortar: Tensor
    brick_random: Tensor


def bricks(
    table: NoiseTable, a: Tensor, b: Tensor, footprint: Tensor, width: float, height: float,
    joint: float,
) -> Bricks:
    """Bricks or paving stones of ``width x height`` metres with joints ``joint`` wide."""
    row = torch.floor(b / height)
    odd = torch.remainder(row, 2.0)
    a_shift = a + 0.5 * width * odd
    horizontal = pulses(b, height, 0.0, 0.5 * joint, footprint)
    vertical = pulses(a_shift, width, 0.0, 0.5 * joint, footprint)
    mortar = 1.0 - (1.0 - horizontal) * (1.0 - vertical)
    brick_random = table.cell_random(a_shift / width, row, salt=1)
    fade = octave_weight(1.0 / height, footprint)  # far away, bricks blend to their mean colour
    brick_random = 0.5 + (brick_random - 0.5) * fade
    return Bricks(mortar, brick_random)


def mix(x: Tensor, y: Tensor, weight: Tensor) -> Tensor:
    """Per-sample blend ``x + (y - x) w`` of colours ``[N,3]`` with weights ``[N]``."""
    return x + (y - x) * weight.unsqueeze(-1)


def tint(colour: Tensor, factor: Tensor) -> Tensor:
    """Scale colours ``[N,3]`` (or one colour ``[3]``) by per-sample brightness ``[N]``."""
    return colour * factor.unsqueeze(-1)
