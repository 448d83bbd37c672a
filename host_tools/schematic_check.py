"""Reading a drawing back (host_tools/schematic.py): what it connects, and whether any
caption sits on another or on a line. The drawing code is not trusted to have drawn its
circuit because it meant to: check() reads each part's pins where its symbol puts them,
the wires, the rail and pin names, and compares that with the circuit; layout_problems()
renders the picture and measures its text.
"""

import math

import schemdraw.elements as elm
from schemdraw.segments import Segment, SegmentPoly

from host_tools.schematic import (
    BOX_PINS,
    SYMMETRIC,
    Box,
    Header,
    Rail,
    _figure,
    name_of,
    net_of,
)
from simulator import circuit as circuits

# --- Reading the drawing back: what it connects -----------------------------------------

def _key(p):
    return (round(float(p[0]), 3), round(float(p[1]), 3))


def _on_segment(p, a, b, eps=1e-3):
    """Whether point p lies on the straight segment a-b."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    if length < eps:
        return math.hypot(px - ax, py - ay) < eps
    if abs((px - ax) * dy - (py - ay) * dx) / length > eps:
        return False
    t = ((px - ax) * dx + (py - ay) * dy) / (length * length)
    return -eps / length <= t <= 1 + eps / length


def _diode_pins(e):
    """A diode's (or LED's, or shunt reference's) anode and cathode where its symbol puts
    them: the triangle points from the anode's end to the cathode's bar, whichever way the
    element was placed, reversed or flipped."""
    tri = [seg for seg in e.segments if isinstance(seg, SegmentPoly) and len(seg.verts) == 3]
    if len(tri) != 1:
        raise ValueError("%s: no diode triangle in its symbol" % e.ref)
    verts = [e.transform.transform(v) for v in tri[0].verts]
    start, end = e.absanchors["start"], e.absanchors["end"]
    ux, uy = end[0] - start[0], end[1] - start[1]
    along = [round((v[0] - start[0]) * ux + (v[1] - start[1]) * uy, 6) for v in verts]
    apex = [a for a in along if along.count(a) == 1]
    base = [a for a in along if along.count(a) == 2]
    if len(apex) != 1 or not base:
        raise ValueError("%s: its triangle does not point along it" % e.ref)
    if apex[0] > base[0]:
        return {"a": start, "k": end}
    return {"a": end, "k": start}


def _cell_pins(e):
    """A battery's + and - where its symbol puts them: + beside the long plate."""
    start, end = e.absanchors["start"], e.absanchors["end"]
    ux, uy = end[0] - start[0], end[1] - start[1]
    n = math.hypot(ux, uy)
    plates = []
    for seg in e.segments:
        if not isinstance(seg, Segment) or len(seg.path) != 2:
            continue
        a, b = (e.transform.transform(p) for p in seg.path)
        if abs((b[0] - a[0]) * ux + (b[1] - a[1]) * uy) > 1e-6:
            continue  # not across the element
        at = ((a[0] - start[0]) * ux + (a[1] - start[1]) * uy) / n
        plates.append((at, math.hypot(b[0] - a[0], b[1] - a[1])))
    plates.sort()
    if len(plates) < 2:
        raise ValueError("%s: no battery plates in its symbol" % e.ref)
    if plates[0][1] > plates[-1][1]:
        return {"p": start, "n": end}
    return {"p": end, "n": start}


def part_pins(e):
    """{circuit pin: point} of a drawn part, read from its symbol."""
    kind = e.kind
    if kind in ("D", "LED", "SHUNTREF"):
        return _diode_pins(e)
    if kind == "CELL":
        return _cell_pins(e)
    if kind in ("NMOS", "PMOS"):
        return {"g": e.absanchors["gate"], "d": e.absanchors["drain"],
                "s": e.absanchors["source"]}
    if kind in BOX_PINS:
        return {pin: e.absanchors[label] for pin, label in BOX_PINS[kind].items()}
    if kind in SYMMETRIC:
        first, second = e.pins
        return {first: e.absanchors["start"], second: e.absanchors["end"]}
    raise ValueError("%s: no way to read the pins of a %s" % (e.ref, kind))


class Drawn:
    """What a drawing connects, read from its elements: parts[ref] = the part's symbol;
    pins[ref] = {pin: node}; names[node] = {the nets named on it}. A node is the points
    that wires, rails and names join (its id: one of them). Wires join where one ends on
    another or on a pin; two wires that only cross do not join."""

    def __init__(self, elements):
        self.parts = {}  # ref -> element
        wires, named, dots, ends, pins, headers = [], [], [], [], [], []
        for e in elements:
            if getattr(e, "ref", None):
                self.parts[e.ref] = e
                for pin, p in part_pins(e).items():
                    pins.append((e.ref, pin, _key(p)))
                if isinstance(e, Box):
                    for label in e.named:
                        named.append((_key(e.absanchors[label]), net_of(label)))
            elif isinstance(e, elm.Line):
                a, b = _key(e.absanchors["start"]), _key(e.absanchors["end"])
                wires.append((a, b))
                ends += [a, b]
            elif isinstance(e, Rail):
                named.append((_key(e.absanchors["start"]), net_of(e.name)))
            elif isinstance(e, Header):  # named, and marks its point as a dot would
                named.append((_key(e.absanchors["start"]), net_of(e.name)))
                headers.append(_key(e.absanchors["start"]))
            elif isinstance(e, elm.Ground):
                named.append((_key(e.absanchors["start"]), circuits.GND))
            elif isinstance(e, elm.Dot):
                dots.append(_key(e.absanchors["start"]))
        self.wires, self.dots = wires, dots
        points = sorted({p for p, _ in named} | set(ends) | {p for _, _, p in pins})
        parent = {p: p for p in points}

        def find(p):
            while parent[p] != p:
                parent[p] = parent[parent[p]]
                p = parent[p]
            return p

        def union(a, b):
            parent[find(a)] = find(b)

        for i, p in enumerate(points):  # one point, however its coordinates were reached
            for q in points[i + 1:]:
                if abs(q[0] - p[0]) > 2e-3:
                    break
                if abs(q[1] - p[1]) <= 2e-3:
                    union(p, q)
        for a, b in wires:
            for p in points:
                if _on_segment(p, a, b):
                    union(p, a)
        # Points named alike are one net, as a schematic's rail symbols and pin names are.
        first = {}
        for p, net in named:
            union(p, first.setdefault(net, p))
        self.names = {}
        for p, net in named:
            self.names.setdefault(find(p), set()).add(net)
        self.pins = {}
        for ref, pin, p in pins:
            self.pins.setdefault(ref, {})[pin] = find(p)
        self._pin_points = pins
        self._named_points = [p for p, _ in named if p not in headers]
        self._headers = headers

    def junction_problems(self):
        """Where three or more things meet there must be a dot, and a dot only there: a
        schematic reader takes two wires crossing without one as not joined."""
        count = {}
        for p in [p for _, _, p in self._pin_points] + self._named_points:
            count[p] = count.get(p, 0) + 1
        for a, b in self.wires:
            count[a] = count.get(a, 0) + 1
            count[b] = count.get(b, 0) + 1
        for a, b in self.wires:
            for p in count:
                if p not in (a, b) and _on_segment(p, a, b):
                    count[p] += 2  # a wire through the point
        problems = []
        dots = set(self.dots)
        for p, n in sorted(count.items()):
            if n >= 3 and p not in dots and p not in self._headers:
                problems.append("three or more connections meet at %s without a dot" % (p,))
        for p in sorted(dots):
            if count.get(p, 0) < 3:
                problems.append("a dot at %s where nothing joins" % (p,))
        return problems


def drawn_nets(sheet):
    return Drawn(sheet.d.elements)


def check(sheet, c):
    """What in the drawing disagrees with circuit `c`, as sentences (empty: none).

    Each part of the circuit must be drawn once, and no other; the pins the circuit puts
    on one net must land on one drawn node, two nets never on one node, and a node that
    carries a name (a rail, ground, a pin of the chip or the board) must carry its net's.
    A resistor's, capacitor's, switch's or motor's two ends are alike: either may be
    either pin."""
    drawn = drawn_nets(sheet)
    problems = []
    refs = {p.ref for p in c.parts}
    for ref in sorted(refs - set(drawn.parts)):
        problems.append("%s is in the circuit but not drawn" % ref)
    for ref in sorted(set(drawn.parts) - refs):
        problems.append("%s is drawn but not in the circuit" % ref)
    group_net = {}  # drawn node -> the net it is taken for
    for g, names in drawn.names.items():
        group_net[g] = sorted(names)[0]
    fixed, loose = [], []
    for p in c.parts:
        if p.ref not in drawn.parts:
            continue
        at = drawn.pins[p.ref]
        if p.kind in SYMMETRIC:
            loose.append(p)
        else:
            fixed += [(p.ref, pin, at[pin], p.nets[pin]) for pin in p.spec.pins]
    net_group = {}

    def claims(g, net):
        return group_net.get(g, net) == net and net_group.get(net, g) == g

    assigned = list(fixed)
    for _, _, g, net in fixed:
        group_net.setdefault(g, net)
        net_group.setdefault(net, g)
    # The alike ends: take the way round that agrees with what is already known; where
    # both or neither do, pin 1 at the start, and see whether the rest agrees.
    while loose:
        choice = None
        for p in loose:
            at = [drawn.pins[p.ref][pin] for pin in p.spec.pins]
            ways = [at, at[::-1]]
            fits = [all(claims(g, p.nets[pin]) for g, pin in zip(way, p.spec.pins))
                    for way in ways]
            if fits[0] != fits[1]:
                choice = (p, ways[fits.index(True)])
                break
        if choice is None:  # the way round with fewer disagreements, else as drawn
            p = loose[0]
            at = [drawn.pins[p.ref][pin] for pin in p.spec.pins]
            score = [sum(claims(g, p.nets[pin]) for g, pin in zip(way, p.spec.pins))
                     for way in (at, at[::-1])]
            choice = (p, at if score[0] >= score[1] else at[::-1])
        p, way = choice
        loose.remove(p)
        for g, pin in zip(way, p.spec.pins):
            assigned.append((p.ref, pin, g, p.nets[pin]))
            group_net.setdefault(g, p.nets[pin])
            net_group.setdefault(p.nets[pin], g)
    by_net, by_group, members = {}, {}, {}
    for ref, pin, g, net in assigned:
        by_net.setdefault(net, set()).add(g)
        by_group.setdefault(g, set()).add(net)
        members.setdefault(g, []).append("%s.%s" % (ref, pin))

    def who(g):
        names = ["'%s'" % name_of(n) for n in sorted(drawn.names.get(g, ()))]
        return ", ".join(sorted(members.get(g, [])) + names)

    for g, names in sorted(drawn.names.items(), key=lambda kv: sorted(kv[1])):
        if len(names) > 1:
            problems.append("one drawn node carries the names %s (%s)" % (
                " and ".join(sorted(name_of(n) for n in names)), who(g)))
    for net, gs in sorted(by_net.items()):
        if len(gs) > 1:
            problems.append("net %s is drawn in %d pieces: %s" % (
                name_of(net), len(gs), " | ".join(sorted(who(g) for g in gs))))
    for g, nets in sorted(by_group.items(), key=lambda kv: sorted(kv[1])):
        if len(nets) > 1:
            problems.append("nets %s are drawn joined: %s" % (
                " and ".join(sorted(name_of(n) for n in nets)), who(g)))
        for name in drawn.names.get(g, ()):
            if name not in nets and len(nets) == 1:
                problems.append("the node of net %s is named %s (%s)" % (
                    name_of(sorted(nets)[0]), name_of(name), who(g)))
    problems += drawn.junction_problems()
    return problems


# --- Reading the picture back: no caption over another, nor over a line -----------------

def _segments(xy):
    for a, b in zip(xy, xy[1:]):
        if all(map(math.isfinite, (a[0], a[1], b[0], b[1]))):
            yield a, b


def _crosses(box, a, b):
    """Whether the segment a-b touches the box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t0 <= t1


def layout_problems(s, pad=1.5):
    """Where the picture on Sheet `s` puts text over text or over a line, as matplotlib
    lays it out with its DejaVu Sans (wider than the fonts the SVG asks for): sentences,
    empty when none. Text boxes are in pixels at the PNG's resolution, grown by `pad`."""
    fig, renderer = _figure(s)
    try:
        ax = fig.axes[0]
        texts = []
        for t in ax.texts:
            if not t.get_text().strip():
                continue
            bb = t.get_window_extent(renderer)
            texts.append((t.get_text().replace("\n", " / "),
                          (bb.x0 - pad, bb.y0 - pad, bb.x1 + pad, bb.y1 + pad)))
        lines = []
        for line in ax.lines:
            xy = line.get_transform().transform(line.get_xydata())
            lines += list(_segments([tuple(p) for p in xy]))
        shapes = [tuple(patch.get_window_extent(renderer).extents) for patch in ax.patches]
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    def overlap(a, b):
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    problems = []
    for i, (text, a) in enumerate(texts):
        for other, b in texts[i + 1:]:
            if overlap(a, b):
                problems.append("'%s' overlaps '%s'" % (text, other))
        if any(_crosses(a, p, q) for p, q in lines) or any(overlap(a, b) for b in shapes):
            problems.append("'%s' lies over a line or a symbol" % text)
    return problems
