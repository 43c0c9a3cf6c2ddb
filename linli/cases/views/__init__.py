"""Pages of the cases app, one module per audience: report.py (residents and anyone
filing a report), case.py (the case page and its actions), lists.py (the centre's queue,
the department inbox, the grid worker's checks), imports.py (12345 orders)."""
