"""The embedded procedural street world: exact depth, poses, speed and classes, no download.

A seed gives a street (road with lane markings, kerbs and sidewalks, facades with windows,
parked cars, poles, signs and trees, optional moving traffic) and a camera driving along it at
KITTI's height and intrinsics. Frames are ray cast analytically (:mod:`.raycast`), so depth,
pose and class labels are exact; :func:`write_dataset` stores sequences in the KITTI raw layout.

Example::

    from packdepth.data.synthetic import SynthParams, render_sequence
    for frame in render_sequence(SynthParams(height=96, width=320, frames=3, seed=1)):
        frame.rgb, frame.depth, frame.semantic, frame.pose, frame.speed
"""

from __future__ import annotations

from packdepth.data.synthetic.primitives import CLASS_COLOURS, CLASSES, ClassId
from packdepth.data.synthetic.scene import World, build_world
from packdepth.data.synthetic.sequence import (
    Frame,
    SynthParams,
    kitti_intrinsics,
    render_frame,
    render_sequence,
    sequence_world,
)
from packdepth.data.synthetic.writer import (
    SYNTH_DATE,
    kitti_timestamp,
    semantic_path,
    split_lines,
    write_dataset,
)

__all__ = [
    "CLASSES",
    "CLASS_COLOURS",
    "SYNTH_DATE",
    "ClassId",
    "Frame",
    "SynthParams",
    "World",
    "build_world",
    "kitti_intrinsics",
    "kitti_timestamp",
    "render_frame",
    "render_sequence",
    "semantic_path",
    "sequence_world",
    "split_lines",
    "write_dataset",
]
