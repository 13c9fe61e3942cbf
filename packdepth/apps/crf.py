"""Dense-CRF refinement of a depth map on its RGB image (extra ``crf``: ``pydensecrf2``).

The fully connected CRF of Krähenbühl & Koltun, "Efficient Inference in Fully Connected CRFs
with Gaussian Edge Potentials", NIPS 2011 (reference code: ``densecrf``; Python binding
``pydensecrf2``), run on depth:

1. **Labels.** ``K`` depths spaced evenly in ``ln d`` (:func:`depth_labels`): by default from the
   prediction's smallest to its largest valid depth, widened by ``3σ`` on each side so that the
   extreme pixels keep a symmetric unary. The spacing should not exceed ``σ`` (else the
   quantisation shows).
2. **Unary** (:func:`depth_unary`): a Gaussian in log depth around the prediction,
   ``ψu(l) = (ln d_l − ln d̂)² / 2σ²`` — the negative log-likelihood of a log-normal error of
   relative width ``σ``. The networks here predict no uncertainty, so ``σ`` is one number for the
   whole image; pixels without a valid prediction (≤ 0, NaN, inf) get a flat unary and take
   their depth from their neighbours.
3. **Pairwise** ``ψp(xi,xj) = μ(xi,xj)·k(fi,fj)``: the paper's kernel (its eq. 3),
   ``k(fi,fj) = w1·exp(−|pi−pj|²/2θα² − |Ii−Ij|²/2θβ²) + w2·exp(−|pi−pj|²/2θγ²)``,
   the appearance (bilateral) kernel on pixel position and RGB (0-255) and the smoothness kernel
   on position alone (``addPairwiseBilateral`` / ``addPairwiseGaussian``). Label
   compatibility: the paper's Potts model ``μ = [xi ≠ xj]`` when ``τ = 0``; with ``τ > 0`` a
   Potts model softened over nearby depths, ``μ(l,l') = 1 − exp(−(ln d_l − ln d_l')²/2τ²)``
   (the paper allows any ``μ``; its section 5 learns one). With fine labels, Potts counts a
   neighbour 1 % farther as fully different, so each neighbour's vote is spread over the few
   labels its marginal covers and the pairwise terms barely act; ``τ`` of about ``σ`` lets
   close depths agree, while jumps larger than ``~3τ`` cost the same (edges are kept).
4. **Mean-field inference**, ``iterations`` steps (the paper's algorithm 1).
5. **Back to depth**: the expected log depth over the labels' marginals,
   ``d = exp(Σ_l Q(l) ln d_l)``, not the most likely label, so there is no staircase; the result
   lies in ``[labels[0], labels[-1]]``. The expectation is taken in ``ln d`` because the unary
   is symmetric there: without pairwise terms (``w1 = w2 = 0``) the prediction comes back
   unchanged up to the label quantisation.
6. **Gate** (optional, ``gate > 0``): keep the refined depth only near the prediction's own
   depth edges — pixels with another pixel within ``r = max(1, round(gate_width · W))`` px
   (Chebyshev; ``gate_width`` a fraction of the image width ``W``, so that the gate reaches as
   far across an upsampled prediction's blurred edge at any resolution) whose predicted log
   depth differs by more than ``gate``
   (:func:`~packdepth.evaluation.edges.depth_discontinuities` of the prediction) — and the
   prediction elsewhere (clipped to the labels). The CRF's labels favour equal depths within a
   colour region, so on slanted surfaces (a road, a facade seen at an angle) it flattens the
   depth; the gate confines it to where the prediction changes fast, its blurred edges.

Defaults: ``θβ = 13``, ``θγ = 3``, ``w2 = 3``, ``w1 = 10`` are the reference example's
(pydensecrf's README: ``addPairwiseGaussian(sxy=3, compat=3)``,
``addPairwiseBilateral(sxy=80, srgb=13, rgbim=im, compat=10)``, with ``sxy``/``srgb`` mapped to
``θγ``, ``θα``, ``θβ``); ``θα = 10``, ``σ = 0.1`` and the gate (``0.1``, 1 % of the width:
3 px at 320) were chosen on a tuning street of the synthetic world (seed 2000, never reported;
``bench/crf_effect.py --tune``), Potts (``τ = 0``) for speed. Cost: about ``K·H·W`` per
iteration; for a 1242x375 KITTI frame at ``K = 64``, 5 iterations, one core: 6 s with Potts,
34 s with ``τ > 0`` (a ``K x K`` matrix product per pixel).

Measured (``bench/crf_effect.py``, ``bench/results/crf_effect.json``, docs/benchmarks.md):
where the depth's error is edge blur (the synthetic streets' exact depth blurred by 2 px) the
defaults lower abs_rel within 2 px of depth edges by 14 % (0.125 → 0.107) and overall by 4 %
(0.0371 → 0.0355), but raise it away from edges (0.0165 → 0.0188); without the gate abs_rel
rises to 0.051. On a network's predictions (the weak demo model on held-out synthetic streets,
kitti_tiny, the annotated KITTI frames) every setting tried changes abs_rel by at most 0.004,
and the edge band's by −0.005 (best) to +0.014 (worst): their errors are wrong depths, not
blurred edges. Nothing runs it by default.
"""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from packdepth.apps.crf_params import CRFParams
from packdepth.errors import PackdepthError

if TYPE_CHECKING:  # numpy only at import
    from packdepth.inference.predict import DepthResult

#: How to get the optional dependency, named in the error when it is missing.
INSTALL_HINT = "pip install 'packdepth[crf]'"


def densecrf() -> ModuleType:
    """``pydensecrf.densecrf`` (from ``pydensecrf2``), or a one-line error naming the extra.

    Raises:
        PackdepthError: the package is not installed.
    """
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError:
        raise PackdepthError(
            f"dense-CRF refinement needs pydensecrf2 ({INSTALL_HINT})"
        ) from None
    return dcrf


def _valid(depth: np.ndarray) -> np.ndarray:
    return np.isfinite(depth) & (depth > 0)


def depth_labels(depth: np.ndarray, params: CRFParams = CRFParams()) -> np.ndarray:
    """The ``K`` label depths, evenly spaced in ``ln d``, nearest first.

    Args:
        depth: ``[H,W]`` predicted depth (metres or relative); invalid pixels are ignored.
        params: ``labels``, ``sigma`` and ``depth_range`` are used.

    Returns:
        ``[K]`` float64 depths: ``params.depth_range`` when given, else the valid depths'
        ``[min, max]`` widened by ``3σ`` in ``ln d`` on each side.

    Raises:
        ValueError: no valid (finite, positive) depth.
    """
    if params.depth_range is not None:
        lo, hi = np.log(params.depth_range)
    else:
        valid = depth[_valid(depth)]
        if valid.size == 0:
            raise ValueError("depth: no finite positive value")
        lo = float(np.log(valid.min())) - 3 * params.sigma
        hi = float(np.log(valid.max())) + 3 * params.sigma
    return np.exp(np.linspace(lo, hi, params.labels))


def depth_unary(depth: np.ndarray, labels: np.ndarray, sigma: float) -> np.ndarray:
    """Unary energies ``(ln d_l − ln d̂)² / 2σ²`` (0 where ``d̂`` is invalid).

    Args:
        depth: ``[H,W]`` predicted depth ``d̂``.
        labels: ``[K]`` label depths ``d_l`` (:func:`depth_labels`).
        sigma: width in ``ln d``.

    Returns:
        ``[K, H·W]`` float32, C-contiguous (``DenseCRF.setUnaryEnergy``'s layout).
    """
    flat = depth.reshape(-1)
    valid = _valid(flat)
    log_d = np.log(np.where(valid, flat, 1.0)).astype(np.float32)
    log_l = np.log(labels).astype(np.float32)[:, None]
    unary = np.square(log_l - log_d[None]) * np.float32(0.5 / sigma**2)
    unary[:, ~valid] = 0.0
    return np.ascontiguousarray(unary, dtype=np.float32)


def label_compatibility(labels: np.ndarray, params: CRFParams, weight: float) -> float | np.ndarray:
    """``DenseCRF``'s ``compat`` for one kernel of ``weight``: the Potts weight (``τ = 0``), else
    the ``[K,K]`` float32 matrix ``−weight·exp(−(ln d_l − ln d_l')²/2τ²)``, the soft Potts
    model up to a constant (``densecrf`` adds ``compat · (k ∗ Q)`` to the energy; Potts is
    ``−weight·I``)."""
    if params.tau == 0:
        return weight
    log_l = np.log(labels)
    close = np.exp(-np.square(log_l[:, None] - log_l[None]) / (2 * params.tau**2))
    return np.ascontiguousarray(-weight * close, dtype=np.float32)


def _check_inputs(depth: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    depth = np.asarray(depth)
    image = np.asarray(image)
    if depth.ndim != 2 or depth.size == 0:
        raise ValueError(f"depth: expected [H,W], got {list(depth.shape)}")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image: expected [H,W,3] uint8, got {list(image.shape)} {image.dtype}")
    if image.shape[:2] != depth.shape:
        (h, w), (H, W) = depth.shape, image.shape[:2]
        raise ValueError(f"the image is {W}x{H} but the depth is {w}x{h}")
    return depth.astype(np.float64), np.array(image, dtype=np.uint8, order="C")  # CRF writes


def label_marginals(
    depth: np.ndarray, image: np.ndarray, params: CRFParams = CRFParams()
) -> tuple[np.ndarray, np.ndarray]:
    """Mean-field marginals of the depth labels (steps 1-4 of the module docstring).

    Args:
        depth: ``[H,W]`` predicted depth.
        image: ``[H,W,3]`` uint8 RGB image of the same size.
        params: see :class:`CRFParams`.

    Returns:
        ``(Q, labels)``: ``Q`` ``[K,H,W]`` float32, summing to 1 over labels; ``labels`` ``[K]``.

    Raises:
        ValueError: shapes differ, or no valid depth.
        PackdepthError: ``pydensecrf2`` is missing.
    """
    dcrf = densecrf()
    depth, image = _check_inputs(depth, image)
    h, w = depth.shape
    labels = depth_labels(depth, params)
    crf = dcrf.DenseCRF2D(w, h, params.labels)
    crf.setUnaryEnergy(depth_unary(depth, labels, params.sigma))
    if params.w2 > 0:
        crf.addPairwiseGaussian(sxy=params.theta_gamma,
                                compat=label_compatibility(labels, params, params.w2))
    if params.w1 > 0:
        crf.addPairwiseBilateral(sxy=params.theta_alpha, srgb=params.theta_beta, rgbim=image,
                                 compat=label_compatibility(labels, params, params.w1))
    q = np.asarray(crf.inference(params.iterations), dtype=np.float32)
    return q.reshape(params.labels, h, w), labels


def refine_depth(
    depth: np.ndarray, image: np.ndarray, params: CRFParams = CRFParams()
) -> np.ndarray:
    """Dense-CRF refinement of a depth map on its image (see the module docstring).

    Args:
        depth: ``[H,W]`` predicted depth (metres or relative; the output keeps its units).
        image: ``[H,W,3]`` uint8 RGB image of the same size.
        params: see :class:`CRFParams`.

    Returns:
        ``[H,W]`` float32 depth, the expected log depth over the labels' marginals, within
        ``[labels[0], labels[-1]]``; deterministic.

    Raises:
        ValueError: shapes differ, or no valid depth.
        PackdepthError: ``pydensecrf2`` is missing (one line naming the extra).

    Example:
        >>> refined = refine_depth(result.depth, rgb, CRFParams(w1=5))  # doctest: +SKIP
    """
    q, labels = label_marginals(depth, image, params)
    log_depth = np.tensordot(np.log(labels).astype(np.float32), q, axes=(0, 0))
    refined = np.exp(log_depth, dtype=np.float32)
    if params.gate > 0:
        from packdepth.evaluation.edges import depth_discontinuities  # torch: only when used

        depth = np.asarray(depth, dtype=np.float32)
        radius = max(1, round(params.gate_width * depth.shape[1]))
        keep = _valid(depth) & ~depth_discontinuities(depth, jump=params.gate, radius=radius)
        refined = np.where(keep, depth, refined)
    return np.clip(refined, np.float32(labels[0]), np.float32(labels[-1]))


def refine_result(
    result: DepthResult, image: np.ndarray, params: CRFParams = CRFParams()
) -> DepthResult:
    """:func:`refine_depth` of a :class:`DepthResult` (``K`` and ``metric`` kept)."""
    depth = refine_depth(result.depth, image, params)
    return replace(result, depth=depth, inv_depth=(1.0 / depth).astype(np.float32))
