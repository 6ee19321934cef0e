"""Events of the values layer that the layers above act on.

Progress (``reports``) counts approved values; when they change, something above must
recompute. The values layer only announces which elements and units changed — it does not
import the progress app, which sits above it (reports connects its trigger in ``ready()``).
"""

from __future__ import annotations

from django.dispatch import Signal

approved_values_changed = Signal()
"""Sent after approved values of ``element_codes`` at ``unit_codes`` changed (approved,
reopened, written by an approved upload, rolled back); ``trigger`` names what changed them.
An empty ``unit_codes`` means every unit."""


def announce_approved_values_changed(
    *, element_codes: set[str], unit_codes: set[str], trigger: str
) -> None:
    approved_values_changed.send(
        sender=None, element_codes=set(element_codes), unit_codes=set(unit_codes), trigger=trigger
    )


values_rejected = Signal()
"""Sent inside the transaction that sent submitted ``values`` back with the reviewer's
``comment`` (``actor``): supervision tells the submitters (portal notice and e-mail)."""
