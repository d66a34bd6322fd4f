"""Everything that needs torch: models with early exits, the profiler, training, measured runs.

Nothing in the simulator core imports this package; the CLI imports its modules lazily, only for
the subcommands that need them (``profile``, ``train``, ``measure`` ...). Install with the
``torch`` extra: ``pip install -e .[torch]``.

Models and profiles: :mod:`.models` (registry: ``INPUTS``, ``MODELS``, ``build_blocks``,
``split_model``) over :mod:`.vgg`, :mod:`.resnet`, :mod:`.mobilenet` and the early-exit head in
:mod:`.heads`; :mod:`.profiler` (FLOPs, bytes, memory and timings per split point);
:mod:`.profile_command` (``python -m simulator profile``); :mod:`.profile_report` (the tables of
``profiles/README.md``). :mod:`.names` lists model and input names without importing torch.
"""
