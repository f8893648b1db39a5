"""Server-rendered SVG charts: no script, no third party."""
from datetime import date, timedelta

from markupsafe import Markup, escape
from sqlalchemy import func, select

from ..extensions import db
from ..signatures.models import Signature, SignatureStatus


def confirmed_per_day(appeal_ids: list[int], days: int = 30, today: date | None = None) -> dict[int, list[int]]:
    """Count confirmations per appeal for each of the last `days` days, in one query."""
    today = today or date.today()
    start = today - timedelta(days=days - 1)
    series = {i: [0] * days for i in appeal_ids}
    if not appeal_ids:
        return series
    day = func.date(Signature.confirmed_at)
    rows = db.session.execute(
        select(Signature.appeal_id, day, func.count())
        .where(Signature.appeal_id.in_(appeal_ids), Signature.status == SignatureStatus.CONFIRMED,
               Signature.confirmed_at >= start)
        .group_by(Signature.appeal_id, day)
    )
    for appeal_id, value, n in rows:
        when = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        index = (when - start).days
        if 0 <= index < days:
            series[appeal_id][index] = n
    return series


def bar_chart(values: list[int], width: int = 240, height: int = 48, label: str = "") -> Markup:
    """Return an accessible inline SVG bar chart of the values."""
    top = max(values) if values and max(values) > 0 else 1
    bar = width / max(len(values), 1)
    bars = []
    for i, v in enumerate(values):
        h = 0 if v == 0 else max(1.5, (height - 2) * v / top)
        bars.append(f'<rect x="{i * bar + 0.5:.1f}" y="{height - h:.1f}" width="{max(bar - 1, 1):.1f}" '
                    f'height="{h:.1f}"><title>{v}</title></rect>')
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" class="axis"/>{"".join(bars)}</svg>'
    )
