"""Writing catalog-like rows from files so that loading the same file twice changes nothing."""

from __future__ import annotations


def save_if_changed(obj, fields: dict) -> bool:
    """Set ``fields`` on ``obj`` and save only what differs (a new row is saved whole); True when
    anything was written."""
    dirty = [name for name, value in fields.items() if getattr(obj, name) != value]
    for name in dirty:
        setattr(obj, name, fields[name])
    if obj.pk is None:
        obj.save()
        return True
    if dirty:
        obj.save(update_fields=dirty)
    return bool(dirty)
