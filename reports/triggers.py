"""What to recompute when approved values change. Placeholder until the progress job lands:
it is called after commit with the changed values."""

from __future__ import annotations


def progress_recompute_for_values(values) -> None:
    return None
