"""Datasets: the synthetic world, KITTI raw, DDAD, image folders and videos.

Every training/validation dataset yields a ``dict`` with these string keys (tensors, no batch dim):

==================  ============================  ==============================================
key                 shape / type                   meaning
==================  ============================  ==============================================
``image``           ``[3,H,W]`` float in [0,1]     target frame t (clean: what the losses see)
``context``         ``[N,3,H,W]``                  context frames, in the order of ``offsets``
``image_aug``       ``[3,H,W]``                    augmented target (what the networks see)
``context_aug``     ``[N,3,H,W]``                  augmented context frames
``K``               ``[3,3]``                      intrinsics at the returned resolution
``offsets``         ``[N]`` long                   frame offsets of the context, e.g. (-1, +1)
``depth_gt``        ``[1,Hg,Wg]`` float, optional  GT depth in metres (0 = none), native resolution
``pose_gt``         ``[N,4,4]``, optional          GT ``T_target_to_context``
``translation_gt``  ``[N]``, optional              GT metres travelled to each context frame
``semantic``        ``[H,W]`` long, optional       class ids at the returned resolution
``name``            ``str``                        a stable identifier of the target frame
==================  ============================  ==============================================

Optional keys are present for every item of a dataset or for none.

Every source reads its images with :mod:`packdepth.data.images` (any bit depth, upright by EXIF
orientation), its videos with :mod:`packdepth.data.video` (upright by the display matrix), and
checks its intrinsics with :mod:`packdepth.data.intrinsics` (pixels, the frames' aspect ratio).
"""
