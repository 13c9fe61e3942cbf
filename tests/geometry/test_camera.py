"""Pinhole projection, intrinsics scaling/flipping and the pixel-centre convention."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from packdepth.geometry import (
    aspect_change,
    backproject,
    denormalise_intrinsics,
    flip_intrinsics,
    intrinsics_matrix,
    pixel_grid,
    pixels_to_grid,
    project,
    scale_intrinsics,
)

K = intrinsics_matrix(100.0, 90.0, 31.2, 22.7, dtype=torch.float64)[None]


def test_backproject_then_project_returns_pixel_grid():
    depth = 1.0 + 5 * torch.rand(2, 1, 24, 32, dtype=torch.float64)
    Kb = K.expand(2, 3, 3)
    points = backproject(depth, torch.linalg.inv(Kb))
    torch.testing.assert_close(points[:, 2:3], depth)
    pix, z = project(points, Kb, None, return_depth=True)
    grid = pixel_grid(2, 24, 32, dtype=torch.float64)[:, :2].permute(0, 2, 3, 1)
    torch.testing.assert_close(pix, grid)
    torch.testing.assert_close(z, depth)


def test_backproject_matches_hand_computation():
    depth = torch.full((1, 1, 3, 4), 2.0, dtype=torch.float64)
    points = backproject(depth, torch.linalg.inv(K))
    # pixel (u=3, v=1): X = (3 - 31.2) / 100 * 2, Y = (1 - 22.7) / 90 * 2
    torch.testing.assert_close(
        points[0, :, 1, 3],
        torch.tensor([(3 - 31.2) / 50, (1 - 22.7) / 45, 2.0], dtype=torch.float64),
    )


def test_project_applies_transform_and_reports_depth_behind():
    points = torch.tensor([0.5, -0.2, 4.0], dtype=torch.float64).reshape(1, 3, 1, 1)
    T = torch.eye(4, dtype=torch.float64)[None]
    T[0, 2, 3] = -6.0  # camera moved 6 m forward: the point is now 2 m behind it
    _, z = project(points, K, T, return_depth=True)
    assert z.item() == -2.0


def test_pixels_to_grid_samples_pixel_centres_exactly():
    img = torch.rand(1, 3, 5, 7, dtype=torch.float64)
    pix = pixel_grid(1, 5, 7, dtype=torch.float64)[:, :2].permute(0, 2, 3, 1)
    out = F.grid_sample(img, pixels_to_grid(pix, 5, 7), align_corners=False, mode="bilinear")
    torch.testing.assert_close(out, img)


def test_scale_intrinsics_matches_resized_image():
    # A point projected with the scaled K lands where the resize maps its original pixel:
    # edges map to edges, so u' + 0.5 = s (u + 0.5).
    X = torch.tensor([0.7, 0.3, 5.0], dtype=torch.float64).reshape(1, 3, 1, 1)
    sx, sy = 0.25, 0.5
    u = project(X, K)[0, 0, 0]
    u_scaled = project(X, scale_intrinsics(K, sx, sy))[0, 0, 0]
    torch.testing.assert_close(
        u_scaled, torch.stack([(u[0] + 0.5) * sx - 0.5, (u[1] + 0.5) * sy - 0.5])
    )
    # Downsampling an image by averaging 2x2 blocks agrees with the scaled K at pixel centres:
    # the centre of output pixel 0 is the corner shared by input pixels 0 and 1.
    K2 = scale_intrinsics(K, 0.5, 0.5)
    assert K2[0, 0, 2].item() == (31.2 + 0.5) / 2 - 0.5


def test_flip_intrinsics_mirrors_projection():
    W = 64
    X = torch.tensor([0.7, 0.3, 5.0], dtype=torch.float64).reshape(1, 3, 1, 1)
    X_mirror = X * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64).reshape(1, 3, 1, 1)
    u = project(X, K)[0, 0, 0]
    u_flip = project(X_mirror, flip_intrinsics(K, W))[0, 0, 0]
    torch.testing.assert_close(u_flip[0], W - 1 - u[0])
    torch.testing.assert_close(u_flip[1], u[1])
    torch.testing.assert_close(flip_intrinsics(flip_intrinsics(K, W), W), K)


def test_denormalised_intrinsics_put_the_centre_at_the_middle_pixel():
    K_norm = intrinsics_matrix(0.58, 1.92, 0.5, 0.5, dtype=torch.float64)
    K = denormalise_intrinsics(K_norm, 640, 192)
    # The middle of 640 columns lies between pixels 319 and 320; fx, fy scale with W, H.
    expected = intrinsics_matrix(371.2, 368.64, 319.5, 95.5, dtype=torch.float64)
    torch.testing.assert_close(K, expected)
    # The same as the intrinsics of a 1x1 image (centre 0) scaled edges to edges.
    one_pixel = intrinsics_matrix(0.58, 1.92, 0.0, 0.0, dtype=torch.float64)
    torch.testing.assert_close(scale_intrinsics(one_pixel, 640, 192), expected)


def test_aspect_change():
    assert aspect_change((1242, 375), (621, 187.5)) == 0.0
    assert abs(aspect_change((200, 100), (100, 100)) - 1.0) < 1e-12
    assert abs(aspect_change((64, 48), (48, 64)) - (16 / 9 - 1)) < 1e-12
