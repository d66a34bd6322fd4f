"""Everything that needs torch: models with early exits, the profiler, training, measured runs.

Nothing in the simulator core imports this package; the CLI imports its modules lazily, only for
the subcommands that need them (``profile``, ``train``, ``measure`` ...). Install with the
``torch`` extra: ``pip install -e .[torch]``.
"""
