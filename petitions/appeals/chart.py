"""Server-rendered SVG charts: no script, no third party; the numbers are also given as text."""
from datetime import date, timedelta

from flask import g
from flask_babel import format_date, gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.signing.rules import counting_clause
from petitions.signing.models import Signature

# Room around the bars for the axis labels, in SVG units.
LEFT, BOTTOM, TOP = 18, 13, 12


def confirmed_per_day(appeal_ids: list[int], days: int = 30, today: date | None = None) -> dict[int, list[int]]:
    """Count the signatures that count per appeal for each of the last `days` days, by day of confirmation."""
    today = today or date.today()
    start = today - timedelta(days=days - 1)
    series = {i: [0] * days for i in appeal_ids}
    if not appeal_ids:
        return series
    day = func.date(Signature.confirmed_at)
    rows = db.session.execute(
        select(Signature.appeal_id, day, func.count())
        .where(Signature.appeal_id.in_(appeal_ids), counting_clause(), Signature.confirmed_at >= start)
        .group_by(Signature.appeal_id, day)
    )
    for appeal_id, value, n in rows:
        when = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        index = (when - start).days
        if 0 <= index < days:
            series[appeal_id][index] = n
    return series


def bar_chart(values: list[int], width: int = 240, height: int = 48, label: str = "",
              today: date | None = None) -> Markup:
    """Return an SVG bar chart of daily values ending today, with labelled axes and the numbers as a table."""
    today = today or date.today()
    days = [today - timedelta(days=len(values) - 1 - i) for i in range(len(values))]
    label = label or _("Signatures that count, per day, last %(days)d days", days=len(values))
    top = max(values) if values and max(values) > 0 else 1
    bar = width / max(len(values), 1)
    bars = []
    for i, (v, d) in enumerate(zip(values, days)):
        h = 0 if v == 0 else max(1.5, (height - 2) * v / top)
        bars.append(f'<rect x="{LEFT + i * bar + 0.5:.1f}" y="{TOP + height - h:.1f}" width="{max(bar - 1, 1):.1f}" '
                    f'height="{h:.1f}"><title>{escape(format_date(d, "medium"))}: {v}</title></rect>')
    first, last = (format_date(days[0], "medium"), format_date(days[-1], "medium")) if days else ("", "")
    total = sum(values)
    desc = _("%(total)d in all, from %(first)s to %(last)s; at most %(top)d on one day.",
             total=total, first=first, last=last, top=max(values, default=0))
    full_w, full_h, base = LEFT + width, TOP + height + BOTTOM, TOP + height
    cid = f"chart-{_next_id()}"
    y_title = _("signatures per day")
    svg = (
        f'<svg class="chart" role="img" aria-labelledby="{cid}-t {cid}-d" viewBox="0 0 {full_w} {full_h}" '
        f'width="{full_w}" height="{full_h}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{cid}-t">{escape(label)}</title><desc id="{cid}-d">{escape(desc)}</desc>'
        f'<g class="axis-labels" aria-hidden="true">'
        f'<text x="{LEFT - 3}" y="{TOP + 7}" text-anchor="end">{top if max(values, default=0) else 0}</text>'
        f'<text x="{LEFT - 3}" y="{base}" text-anchor="end">0</text>'
        f'<text x="{LEFT + 3}" y="9" class="unit">{escape(y_title)}</text>'
        f'<text x="{LEFT}" y="{full_h - 2}">{escape(first)}</text>'
        f'<text x="{full_w}" y="{full_h - 2}" text-anchor="end">{escape(last)}</text></g>'
        f'<line x1="{LEFT}" y1="{base - 0.5}" x2="{full_w}" y2="{base - 0.5}" class="axis"/>'
        f'<line x1="{LEFT + 0.5}" y1="{TOP}" x2="{LEFT + 0.5}" y2="{base}" class="axis"/>{"".join(bars)}</svg>'
    )
    rows = "".join(f"<tr><td>{escape(format_date(d, 'medium'))}</td><td>{v}</td></tr>" for d, v in zip(days, values))
    # Tables keep their content's width whatever is set on them: the wrapper is what gets hidden on screen.
    # Outside the f-string: the catalog extractor does not read calls inside one.
    day, signatures = escape(_("Day")), escape(_("Signatures"))
    table = (f'<div class="chart-data"><table><caption>{escape(label)}</caption><thead><tr><th scope="col">'
             f'{day}</th><th scope="col">{signatures}</th></tr></thead>'
             f'<tbody>{rows}</tbody></table></div>')
    return Markup(svg + table)


def _next_id() -> int:
    """Return a number unique within the request, so that several charts on one page keep their own labels."""
    g.chart_ids = getattr(g, "chart_ids", 0) + 1
    return g.chart_ids
