"""Output formats for an outcomes result: JSON, CSV and a self-contained HTML report."""

from __future__ import annotations

import csv
import html
import io
import json
from typing import Any

TITLES = {
    "maltreatment_in_care": "Maltreatment in foster care",
    "recurrence": "Recurrence of maltreatment",
    "permanency_12_entries": "Permanency in 12 months for children entering care",
    "permanency_12_23": "Permanency in 12 months for children in care 12–23 months",
    "permanency_24_plus": "Permanency in 12 months for children in care 24 months or more",
    "reentry_12": "Re-entry to foster care in 12 months",
    "placement_stability": "Placement stability",
}

CSV_COLUMNS = (
    "period_start",
    "period_end",
    "indicator",
    "group",
    "numerator",
    "denominator",
    "value",
    "unit",
    "computable",
    "national_performance",
    "data_quality_failed",
    "age_standardised_approximation",
)


def to_json(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False) + "\n"


def to_csv(result: dict[str, Any]) -> str:
    """One row per indicator (group ``all``), then one per breakdown group and trend period."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    period = result["period"]
    for name, entry in result["indicators"].items():
        rows = [("all", entry)] + [(g["group"], g) for g in entry.get("breakdown", [])]
        for group, row in rows:
            writer.writerow(
                [
                    period["start"],
                    period["end"],
                    name,
                    group,
                    _blank(row["numerator"]),
                    _blank(row["denominator"]),
                    _blank(row["value"]),
                    entry["unit"],
                    str(row["computable"]).lower(),
                    entry["national_performance"],
                    ";".join(entry["data_quality_failed"]),
                    _blank(row.get("age_standardised_approximation")),
                ]
            )
        for point in entry.get("trend", []):
            if point["period"]["start"] == period["start"]:
                continue
            writer.writerow(
                [
                    point["period"]["start"],
                    point["period"]["end"],
                    name,
                    "all",
                    _blank(point["numerator"]),
                    _blank(point["denominator"]),
                    _blank(point["value"]),
                    entry["unit"],
                    str(point["computable"]).lower(),
                    entry["national_performance"],
                    "",
                    "",
                ]
            )
    return out.getvalue()


def _blank(value: object) -> object:
    return "" if value is None else value


def _fmt(value: float | None) -> str:
    return "not computable" if value is None else f"{value:,.2f}"


def _bar_chart(entry: dict[str, Any], title: str) -> str:
    """An inline SVG: bars for each period (or this period), a line for national performance."""
    points = entry.get("trend") or [
        {
            "period": {"start": "", "end": ""},
            "value": entry["value"],
            "computable": entry["computable"],
        }
    ]
    values = [p["value"] for p in points if p["value"] is not None]
    national = float(entry["national_performance"])
    top = max([national, *values]) * 1.2 or 1.0
    width, height, pad = 480, 180, 30
    slot = (width - 2 * pad) / len(points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{html.escape(title)}" '
        'class="chart">'
    ]
    base = height - pad
    for i, point in enumerate(points):
        x = pad + i * slot + slot * 0.15
        label = html.escape(point["period"]["start"][:7] or "this period")
        if point["value"] is None:
            parts.append(
                f'<text x="{x:.1f}" y="{base - 4}" class="na">n/a</text>'
                f'<text x="{x:.1f}" y="{base + 14}" class="axis">{label}</text>'
            )
            continue
        h = (base - pad / 2) * float(point["value"]) / top
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'class="bar"><title>{label}: {_fmt(point["value"])}</title></rect>'
            f'<text x="{x:.1f}" y="{base - h - 3:.1f}" class="value">{_fmt(point["value"])}</text>'
            f'<text x="{x:.1f}" y="{base + 14}" class="axis">{label}</text>'
        )
    y = base - (base - pad / 2) * national / top
    parts.append(
        f'<line x1="{pad}" x2="{width - pad}" y1="{y:.1f}" y2="{y:.1f}" class="national"/>'
        f'<text x="{width - pad}" y="{y - 3:.1f}" class="national-label" text-anchor="end">'
        f"national {national:g}</text>"
    )
    parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{base}" y2="{base}" class="axis-line"/>')
    parts.append("</svg>")
    return "".join(parts)


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1b1b;
max-width:60rem}
h1{font-size:1.5rem}section{border-top:1px solid #ccc;padding:1rem 0}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;
text-align:right}th:first-child,td:first-child{text-align:left}
.chart{width:100%;max-width:480px;height:auto}.bar{fill:#2b6cb0}.national{stroke:#c53030;
stroke-dasharray:4 3}.national-label{fill:#c53030;font-size:11px}.axis,.value,.na{font-size:10px}
.axis-line{stroke:#555}.fail{color:#c53030}.ok{color:#276749}.note{color:#555}
"""


def to_html(result: dict[str, Any]) -> str:
    """A single HTML file with inline CSS and SVG: no scripts, fonts or CDN."""
    period = result["period"]
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>CFSR indicators {period['start']} to {period['end']}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>CFSR Round 4 statewide data indicators (observed performance)</h1>",
        f"<p>Period {html.escape(period['start'])} to {html.escape(period['end'])}; "
        f"data through {html.escape(str(result.get('data_through', '')))}.</p>",
    ]
    for name, entry in result["indicators"].items():
        out.append(f'<section id="{name}"><h2>{html.escape(TITLES[name])}</h2>')
        if entry["computable"]:
            out.append(
                f"<p><strong>{_fmt(entry['value'])}</strong> {html.escape(entry['unit'])} "
                f"({entry['numerator']:,} / {entry['denominator']:,}); national performance "
                f"{entry['national_performance']:g} ({entry['better']} is better).</p>"
            )
        else:
            out.append(f'<p class="note">{html.escape(entry.get("reason", "not computable"))}</p>')
        if entry["data_quality_failed"]:
            failed = ", ".join(entry["data_quality_failed"])
            out.append(f'<p class="fail">Data-quality checks failed: {html.escape(failed)}</p>')
        out.append(_bar_chart(entry, TITLES[name]))
        if entry.get("breakdown"):
            # By age group there is no age-standardised figure (the groups are the ages).
            standardised = any("age_standardised_approximation" in g for g in entry["breakdown"])
            out.append(
                "<table><tr><th>group</th><th>numerator</th><th>denominator</th><th>value</th>"
                + ("<th>age-standardised (approximation)</th>" if standardised else "")
                + "</tr>"
            )
            for g in entry["breakdown"]:
                approx = g.get("age_standardised_approximation")
                out.append(
                    f"<tr><td>{html.escape(str(g['group']))}</td><td>{g['numerator']:,}</td>"
                    f"<td>{g['denominator']:,}</td><td>{_fmt(g['value'])}</td>"
                    + (f"<td>{'' if approx is None else _fmt(approx)}</td>" if standardised else "")
                    + "</tr>"
                )
            out.append("</table>")
        out.append("</section>")
    out.append(
        "<section><h2>Data quality</h2><table><tr><th>check</th><th>value</th>"
        "<th>threshold</th><th>result</th></tr>"
    )
    for check in result["data_quality"]:
        status = (
            '<span class="ok">passed</span>'
            if check["passed"]
            else ('<span class="fail">failed</span>')
        )
        out.append(
            f"<tr><td>{html.escape(str(check['description']))}</td><td>{check['value']:.4f}</td>"
            f"<td>{check['threshold']}</td><td>{status}</td></tr>"
        )
    out.append("</table></section>")
    out.append(
        '<p class="note">Observed performance, computed by Kinfolk from the definitions in '
        "kinfolk/outcomes/DEFINITIONS.md. The Children's Bureau's risk-standardised performance "
        "uses a model fitted on all states and is not reproduced here.</p>"
    )
    out.append("</body></html>\n")
    return "\n".join(out)
