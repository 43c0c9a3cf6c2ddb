from linli.insights.selectors import kpi_visible


def insights(request):
    """`kpi_nav` for the navigation bar's "KPIs" link: asked on every page, so it reads the
    user's own columns only (selectors.kpi_visible), never the database."""
    user = getattr(request, "user", None)
    return {"kpi_nav": user is not None and kpi_visible(user)}
