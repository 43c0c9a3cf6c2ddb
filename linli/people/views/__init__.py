"""Pages of the register, split by sub-domain (STYLE.md 3): the register itself, visits and
care, a resident's own record with corrections, and Excel import/export. Each module
keeps its own `urlpatterns`; linli/people/urls.py joins them."""
