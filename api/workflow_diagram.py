"""A workflow's state diagram as inline SVG, drawn from its table, with the item's current state highlighted.

States are laid out in rows, top to bottom, by how many moves they are from the first state
(terminal states last), in the table's order within a row: tall rather than wide, so that it
reads on a phone. Every move is a slightly bowed arrow, so
that a move and its way back (start and return) are two arrows, not one line. The same moves
are given as a table (`Figure.rows`), which the page shows beside the picture.
"""

from __future__ import annotations

import math
from itertools import count

from markupsafe import Markup, escape

from api.charts import INK, MUTED, Figure
from api.page_display import label_for
from domain.workflow import Workflow

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN, BOW = 132, 36, 28, 40, 14, 18
CURRENT_FILL, PLAIN_FILL = "#1d4f91", "#ffffff"
_ids = count(1)


def layers(workflow: Workflow) -> dict[str, int]:
    """Each state's row: its distance in moves from the first state; terminal states one past the rest."""
    first = workflow.creating_action.target
    found, frontier = {first: 0}, [first]
    while frontier:
        following = []
        for state in frontier:
            for action in workflow.available_in(state):
                if action.target and action.target not in found and action.target not in workflow.terminal:
                    found[action.target] = found[state] + 1
                    following.append(action.target)
        frontier = following
    last = max(found.values(), default=0) + 1
    return {s: found.get(s, last) for s in workflow.states}


def moves(workflow: Workflow) -> list[tuple[str, str, str]]:
    """(from, action, to) for every action that changes the state, in the table's order."""
    return [(source, a.name, a.target) for a in workflow.commands if a.target for source in a.sources
            if source != a.target]


def workflow_diagram(workflow: Workflow, current: str | None = None) -> Figure:
    """The diagram of `workflow`, with `current` (a state) filled; its moves as the table."""
    row_of = layers(workflow)
    rows: dict[int, list[str]] = {}
    for state in workflow.states:
        rows.setdefault(row_of[state], []).append(state)
    widest = max(len(states) for states in rows.values())
    width = MARGIN * 2 + widest * (BOX_W + GAP_X) - GAP_X
    height = MARGIN * 2 + len(rows) * (BOX_H + GAP_Y) - GAP_Y
    centre: dict[str, tuple[float, float]] = {}
    for row, states in rows.items():
        left = (width - len(states) * (BOX_W + GAP_X) + GAP_X) / 2  # each row centred
        for i, state in enumerate(states):
            centre[state] = (left + i * (BOX_W + GAP_X) + BOX_W / 2, MARGIN + row * (BOX_H + GAP_Y) + BOX_H / 2)
    n = next(_ids)
    parts = [f'<defs><marker id="wf-{n}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
             f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{MUTED}"/></marker></defs>']
    actions_between: dict[tuple[str, str], list[str]] = {}
    for source, action, target in moves(workflow):
        actions_between.setdefault((source, target), []).append(label_for(action))
    for (source, target), names in actions_between.items():
        rows_crossed = abs(row_of[target] - row_of[source])
        parts.append(_arrow(centre[source], centre[target], f"wf-{n}-arrow", f"{', '.join(names)}: "
                            f"{label_for(source)} to {label_for(target)}", BOW * max(1, rows_crossed)))
    for state in workflow.states:
        parts.append(_box(centre[state], label_for(state), state == current, state in workflow.terminal))
    title = f"{workflow.title} workflow" + (f": now {label_for(current)}" if current else "")
    description = (f"The states of a {workflow.title.lower()} and the moves between them"
                   + (f"; this one is {label_for(current)}, filled dark blue." if current else "."))
    svg = Markup(f'<svg class="diagram" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
                 f'height="{height:.0f}" role="img" '
                 f'aria-labelledby="wf-{n}-title wf-{n}-desc" font-size="13" font-family="system-ui, sans-serif">'
                 f'<title id="wf-{n}-title">{escape(title)}</title><desc id="wf-{n}-desc">{escape(description)}</desc>'
                 f'{"".join(parts)}</svg>')
    rows = tuple((label_for(s), label_for(a), label_for(t)) for s, a, t in moves(workflow))
    return Figure(title, svg, ("From", "Action", "To"), rows)


def _box(at: tuple[float, float], label: str, current: bool, terminal: bool) -> str:
    x, y = at[0] - BOX_W / 2, at[1] - BOX_H / 2
    fill, ink = (CURRENT_FILL, "#ffffff") if current else (PLAIN_FILL, INK)
    border = 3 if terminal or current else 1.5
    weight = ' font-weight="700"' if current else ""
    return (f'<g><rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
            f'stroke="{CURRENT_FILL if current else MUTED}" stroke-width="{border}"/>'
            f'<text x="{at[0]:.1f}" y="{at[1] + 4.5:.1f}" text-anchor="middle" fill="{ink}"{weight}>'
            f'{escape(label + (" (now)" if current else ""))}</text></g>')


def _arrow(start: tuple[float, float], end: tuple[float, float], marker: str, title: str, bow: float) -> str:
    """A quadratic curve between the boxes' borders, bowed to the left of its direction (the more rows it
    crosses, the more, so that it passes beside the boxes between rather than through them)."""
    (x1, y1), (x2, y2) = _on_border(start, end), _on_border(end, start)
    length = math.hypot(x2 - x1, y2 - y1) or 1
    cx, cy = (x1 + x2) / 2 + bow * (y2 - y1) / length, (y1 + y2) / 2 - bow * (x2 - x1) / length
    return (f'<path d="M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}" fill="none" stroke="{MUTED}" '
            f'stroke-width="1.5" marker-end="url(#{marker})"><title>{escape(title)}</title></path>')


def _on_border(centre: tuple[float, float], towards: tuple[float, float]) -> tuple[float, float]:
    """Where the line from a box's centre towards another point leaves the box."""
    dx, dy = towards[0] - centre[0], towards[1] - centre[1]
    scale = min((BOX_W / 2) / abs(dx) if dx else math.inf, (BOX_H / 2) / abs(dy) if dy else math.inf)
    return centre[0] + dx * scale, centre[1] + dy * scale
