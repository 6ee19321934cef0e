"""View-models of the leadership pages, one module per page: ``home``, ``city``, ``unit``,
``indicator``, ``compare`` and ``packs`` (what goes into a report pack). Each returns plain
dataclasses and dicts of codes, labels and numbers for its template; reads shared by several
pages are in :mod:`reports.selectors`, the shared line-building in :mod:`.common`, and how a
status, a link or a sparkline looks in ``reports/templatetags/dashboard.py``."""
