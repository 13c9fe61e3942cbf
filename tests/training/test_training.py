"""End-to-end training on a tiny synthetic world: the loss falls, runs repeat, resume is exact."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from packdepth.cli import main
from packdepth.config import load_config
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.errors import PackdepthError
from packdepth.training.config import TrainConfig
from packdepth.training.module import SelfSupervisedDepth
from packdepth.training.objective import Objective
from packdepth.training.run import DepthDataModule, train

H, W = 48, 160


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("world")
    write_dataset(root, SynthParams(height=H, width=W, frames=8, seed=3), sequences=2)
    return root


def _config(world: Path, out: Path, *overrides: str) -> TrainConfig:
    base = [
        "data.kind=synthetic",
        f"data.root={world}",
        "data.split=splits/train_files.txt",
        f"data.height={H}",
        f"data.width={W}",
        "model.depth={name: ResNetDepth, num_layers: 18}",
        "model.pose={name: PoseNet}",
        "trainer.batch_size=4",
        "trainer.progress_bar=false",
        "trainer.log_every_steps=1",
        f"trainer.out_dir={out}",
    ]
    return load_config(TrainConfig, None, base + list(overrides))


def _steps(csv: Path, key: str = "train/total") -> list[float]:
    import csv as csvlib

    with open(csv) as f:
        return [float(r[key]) for r in csvlib.DictReader(f) if r.get(key)]


def _photometric(module: SelfSupervisedDepth, batch: dict) -> float:
    module.eval()  # fixed BatchNorm statistics: compare the same function before and after
    torch.manual_seed(0)
    with torch.no_grad():
        return module.compute_losses(batch)["photometric"].item()


def test_training_lowers_the_photometric_loss(world, tmp_path):
    cfg = _config(
        world, tmp_path / "run", "trainer.max_steps=30", "trainer.max_epochs=-1", "optim.lr=1e-3"
    )
    data = DepthDataModule(cfg)
    data.setup()
    batch = next(iter(torch.utils.data.DataLoader(data.train_set, batch_size=4)))
    torch.manual_seed(cfg.trainer.seed)
    before = _photometric(SelfSupervisedDepth(cfg), batch)
    result = train(cfg)
    after_model = SelfSupervisedDepth(cfg)
    after_model.depth_net.load_state_dict(load_file(result.model_dir / "depth_net.safetensors"))
    after_model.pose_net.load_state_dict(load_file(result.model_dir / "pose_net.safetensors"))
    after = _photometric(after_model, batch)
    assert result.global_step == 30
    assert after < 0.85 * before, (before, after)


def test_same_seed_same_losses_and_exact_resume(world, tmp_path):
    # the train split holds 6 frames: one batch of 4 per epoch (the last batch is dropped)
    a = train(_config(world, tmp_path / "a", "trainer.max_epochs=5"))
    b = train(_config(world, tmp_path / "b", "trainer.max_epochs=5"))
    losses_a = _steps(tmp_path / "a" / "csv" / "metrics.csv")
    assert len(losses_a) == 5 and all(math.isfinite(v) for v in losses_a)
    assert losses_a == _steps(tmp_path / "b" / "csv" / "metrics.csv")
    assert a.global_step == b.global_step == 5
    # Stop after 3 epochs, resume to 5 and land exactly where the uninterrupted run did.
    first = train(_config(world, tmp_path / "c", "trainer.max_epochs=3"))
    ckpt = torch.load(first.last_checkpoint, weights_only=True, map_location="cpu")
    assert ckpt["global_step"] == 3 and ckpt["optimizer_states"][0]["state"]
    resumed = train(_config(world, tmp_path / "d", "trainer.max_epochs=5"),
                    resume=first.last_checkpoint)
    assert resumed.global_step == 5
    assert _steps(tmp_path / "d" / "csv" / "metrics.csv") == losses_a[3:]
    wa = load_file(a.model_dir / "depth_net.safetensors")
    wd = load_file(resumed.model_dir / "depth_net.safetensors")
    for key, value in wa.items():
        torch.testing.assert_close(wd[key], value, rtol=0, atol=0, msg=key)
    # resumed in its own folder, the run keeps the log of its first part beside the new one
    train(_config(world, tmp_path / "c", "trainer.max_epochs=4"), resume=first.last_checkpoint)
    csv = tmp_path / "c" / "csv"
    assert _steps(csv / "metrics-before-resume-from-step-3.csv") == losses_a[:3]
    assert _steps(csv / "metrics.csv") == losses_a[3:4]


def test_non_finite_loss_skips_the_batch_then_stops(world, tmp_path):
    cfg = _config(world, tmp_path / "nan", "optim.max_bad_steps=2")
    data = DepthDataModule(cfg)
    data.setup()
    batch = next(iter(torch.utils.data.DataLoader(data.train_set, batch_size=2)))
    batch["image"] = batch["image"] * float("nan")
    module = SelfSupervisedDepth(cfg)
    with pytest.warns(RuntimeWarning, match="non-finite loss"):
        assert module.training_step(batch, 0) is None
    with warnings.catch_warnings(), pytest.raises(PackdepthError, match="training diverged"):
        warnings.simplefilter("ignore")
        module.training_step(batch, 1)


def test_cli_errors_are_one_line(world, tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data:\n  root: {world}\n  kind: synthetic\n  hieght: 48\n")
    assert main(["train", str(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown config key data.hieght" in err
    assert main(["train", str(tmp_path / "missing.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg.write_text(f"data:\n  root: {empty}\n  kind: folder\n")
    assert main(["train", str(cfg)]) == 2
    assert str(empty) in capsys.readouterr().err


def test_learning_rate_drops_once_at_the_requested_fraction(world, tmp_path):
    cfg = _config(world, tmp_path / "lr", "trainer.max_steps=4", "trainer.max_epochs=-1",
                  "optim.decay_at=0.5", "optim.gamma=0.1", "optim.pose_lr=1e-3")
    train(cfg)
    depth_lr = _steps(tmp_path / "lr" / "csv" / "metrics.csv", "lr-Adam/pg1")
    pose_lr = _steps(tmp_path / "lr" / "csv" / "metrics.csv", "lr-Adam/pg2")
    assert depth_lr == pytest.approx([2e-4, 2e-4, 2e-5, 2e-5])  # steps 0-3 of 4
    assert pose_lr == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4])


def _log_depth_change(cfg: TrainConfig, model_dir: Path, batch: dict) -> float:
    """Mean |Δ log depth| of the model in ``model_dir`` against ``cfg.model.init``."""
    from packdepth.io.checkpoints import load_model

    with torch.no_grad():  # batch statistics, as in training (the anchor's comparison)
        a = load_model(Path(cfg.model.init) / "depth_net.safetensors").train()(batch["image"])[0]
        b = load_model(model_dir / "depth_net.safetensors").train()(batch["image"])[0]
    return (torch.log(a) - torch.log(b)).abs().mean().item()


def test_anchor_keeps_a_fitted_model_near_its_initial_depth(world, tmp_path):
    init = train(_config(world, tmp_path / "init", "trainer.max_steps=2", "trainer.max_epochs=-1"))
    with pytest.raises(PackdepthError, match=r"needs model\.init"):
        SelfSupervisedDepth(_config(world, tmp_path / "x", "loss.anchor_weight=1"))
    runs = {}
    for weight in (0.0, 10.0):
        cfg = _config(world, tmp_path / f"w{weight}", "trainer.max_steps=8",
                      "trainer.max_epochs=-1", "optim.lr=1e-3", f"model.init={init.model_dir}",
                      f"loss.anchor_weight={weight}")
        runs[weight] = (cfg, train(cfg))
    cfg, anchored = runs[10.0]
    anchor_log = _steps(anchored.out_dir / "csv" / "metrics.csv", "train/anchor")
    assert len(anchor_log) == 8 and anchor_log[0] < 1e-6, anchor_log  # starts at the anchor
    ckpt = torch.load(anchored.out_dir / "checkpoints" / "last.ckpt", weights_only=True)
    start = load_file(init.model_dir / "depth_net.safetensors")
    for key, value in start.items():  # the anchor is frozen and travels in the checkpoint
        if key.endswith("num_batches_tracked"):
            continue
        torch.testing.assert_close(ckpt["state_dict"][f"anchor_net.{key}"], value, rtol=0, atol=0)
    data = DepthDataModule(cfg)
    data.setup()
    batch = next(iter(torch.utils.data.DataLoader(data.train_set, batch_size=4)))
    free = _log_depth_change(cfg, runs[0.0][1].model_dir, batch)
    held = _log_depth_change(cfg, anchored.model_dir, batch)
    # unanchored, this lr drives the barely trained net into the far-depth collapse; anchored,
    # it stays near its start
    assert held < 0.1 * free, (held, free)


def test_pose_alignment_lowers_the_photometric_loss_and_keeps_pose_gradients(world, tmp_path):
    """With the exact depth, the aligned poses explain the views about as well as the true
    poses, far better than an untrained pose net's; the pose net still receives gradients."""
    from packdepth.losses.multiscale import multiscale_photometric

    cfg = _config(world, tmp_path, "loss.align_pose=true", "loss.align_levels=[2, 1]",
                  "loss.align_iterations=4", "data.augmentation.enabled=false")
    module = SelfSupervisedDepth(cfg)
    data = DepthDataModule(cfg)
    data.setup()
    batch = next(iter(torch.utils.data.DataLoader(data.train_set, batch_size=4)))
    depth = batch["depth_gt"].clamp(min=0)
    depth = torch.where(depth > 0, depth, torch.full_like(depth, 80.0))  # sky: far
    inv = [1.0 / depth]
    raw = module.pose_net(batch["image"], batch["context"], offsets=[-1, 1])
    aligned = module.loss_poses(batch, inv[0], raw)

    def loss(poses):
        torch.manual_seed(0)
        return multiscale_photometric(batch["image"], batch["context"], inv, poses, batch["K"],
                                      automask=False).photometric.item()

    l_raw, l_aligned, l_true = loss(raw.detach()), loss(aligned.detach()), loss(batch["pose_gt"])
    assert l_aligned < 0.6 * l_raw and l_aligned < 1.15 * l_true, (l_raw, l_aligned, l_true)
    aligned.sum().backward()
    assert module.pose_net.pose_pred.weight.grad.abs().sum() > 0


def test_oracle_pose_uses_the_exact_poses(world, tmp_path):
    """The ablation's loss is the loss at the data's exact poses, whatever the pose net says."""
    from packdepth.losses.multiscale import multiscale_photometric

    cfg = _config(world, tmp_path, "loss.oracle_pose=true", "loss.num_scales=1",
                  "data.augmentation.enabled=false")
    module = SelfSupervisedDepth(cfg).eval()
    data = DepthDataModule(cfg)
    data.setup()
    batch = next(iter(torch.utils.data.DataLoader(data.train_set, batch_size=4)))
    with torch.no_grad():
        inv = module.depth_net(batch["image"])[:1]
        torch.manual_seed(0)
        expected = multiscale_photometric(batch["image"], batch["context"], inv,
                                          batch["pose_gt"], batch["K"]).photometric
        for p in module.pose_net.parameters():
            p.add_(torch.randn_like(p))
        torch.manual_seed(0)
        got = module.compute_losses(batch)["photometric"]
    torch.testing.assert_close(got, expected)
    del batch["pose_gt"]
    with pytest.raises(PackdepthError, match="oracle_pose"):
        module.compute_losses(batch)


def test_metric_alignment_keeps_the_pose_nets_translation_length(world, tmp_path):
    """With velocity supervision the alignment may turn the pose but not rescale it: the
    translation keeps the pose net's (metric) length, the rotation and direction are the
    scale-free alignment's, and the velocity loss still reaches the pose net."""
    from packdepth.losses.velocity import velocity_loss

    free = SelfSupervisedDepth(_config(world, tmp_path, "loss.align_pose=true",
                                       "data.augmentation.enabled=false"))
    cfg = _config(world, tmp_path, "loss.align_pose=true", "loss.velocity_weight=0.1",
                  "data.augmentation.enabled=false")
    metric = SelfSupervisedDepth(cfg)
    metric.pose_net.load_state_dict(free.pose_net.state_dict())
    data = DepthDataModule(cfg)
    data.setup()
    batch = next(iter(torch.utils.data.DataLoader(data.train_set, batch_size=4)))
    gt = batch["depth_gt"]
    depth = torch.where(gt > 0, gt, torch.full_like(gt, 80.0))
    inv = 1.0 / (3.0 * depth)  # the right shape at the wrong scale
    raw = metric.pose_net(batch["image"], batch["context"], offsets=[-1, 1])
    with torch.no_grad():
        scale_free = free.loss_poses(batch, inv, raw.detach())
    kept = metric.loss_poses(batch, inv, raw)
    length = raw[..., :3, 3].norm(dim=-1)
    torch.testing.assert_close(kept[..., :3, 3].norm(dim=-1), length)
    assert (scale_free[..., :3, 3].norm(dim=-1) - length).abs().max() > 1e-3  # it would rescale
    torch.testing.assert_close(kept[..., :3, :3], scale_free[..., :3, :3])
    direction = torch.nn.functional.normalize(scale_free[..., :3, 3], dim=-1)
    torch.testing.assert_close(torch.nn.functional.normalize(kept[..., :3, 3], dim=-1), direction)
    velocity_loss(kept, batch["translation_gt"]).backward()
    assert metric.pose_net.pose_pred.weight.grad.abs().sum() > 0


def test_pose_alignment_runs_in_float32_under_bf16_autocast(world, tmp_path, monkeypatch):
    """With the networks' outputs fixed, the poses the losses see are the same whether or not
    the step runs inside a bf16 autocast region (mixed-precision training)."""
    cfg = _config(world, tmp_path, "loss.align_pose=true", "data.augmentation.enabled=false")
    module = SelfSupervisedDepth(cfg).eval()
    data = DepthDataModule(cfg)
    data.setup()
    batch = next(iter(torch.utils.data.DataLoader(data.train_set, batch_size=4)))
    offsets = [int(o) for o in batch["offsets"][0]]
    with torch.no_grad():
        inv = [d.detach() for d in module.depth_net(batch["image"])]
        raw = module.pose_net(batch["image"], batch["context"], offsets=offsets).detach()
    monkeypatch.setattr(module.depth_net, "forward", lambda image: inv)
    monkeypatch.setattr(module.pose_net, "forward", lambda *args, **kwargs: raw)
    seen: list[torch.Tensor] = []

    class Seen(Objective):  # records the poses the loss terms would see
        def __call__(self, inputs):
            seen.append(inputs.poses)

    monkeypatch.setattr(module, "objective", Seen(module.objective.terms))
    with torch.no_grad():
        module.compute_losses(batch)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            module.compute_losses(batch)
    plain, mixed = seen
    assert mixed.dtype == torch.float32
    assert (plain - raw).abs().max() > 1e-3  # the alignment did change the poses
    torch.testing.assert_close(mixed, plain, rtol=0, atol=1e-6)


def test_init_model_settings_win_over_the_config(world, tmp_path):
    """A pose net saved with translation scale 1 (velocity-trained) keeps it when fine-tuned
    from a config that does not say so; a different network name is an error."""
    metric = "model.pose={name: PoseNet, translation_scale: 1.0}"
    init = train(_config(world, tmp_path / "init", metric, "trainer.max_steps=1",
                         "trainer.max_epochs=-1"))
    run = train(_config(world, tmp_path / "fit", f"model.init={init.model_dir}",
                        "trainer.max_steps=1", "trainer.max_epochs=-1"))
    from packdepth.io.checkpoints import load_model

    assert load_model(run.model_dir / "pose_net.safetensors").translation_scale == 1.0
    saved = (run.out_dir / "config.yaml").read_text()
    assert "translation_scale: 1.0" in saved
    with pytest.raises(PackdepthError, match="holds a PoseNet pose net"):
        train(_config(world, tmp_path / "bad", f"model.init={init.model_dir}",
                      "model.pose={name: PoseResNet}", "trainer.max_steps=1"))



def test_fused_adam_gradients_are_clipped(world, tmp_path):
    module = SelfSupervisedDepth(_config(world, tmp_path / "clip"))
    optimizer = module.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    assert optimizer.defaults["fused"]
    for p in module.parameters():
        p.grad = torch.full_like(p, 3.0)
    module.configure_gradient_clipping(optimizer, gradient_clip_val=10.0)
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in module.parameters()]))
    assert norm.item() == pytest.approx(10.0, rel=1e-3)  # from ~1.2e4 (float32 sums)
