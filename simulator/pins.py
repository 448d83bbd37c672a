# What an emulated board's pins did, set against a trace: tests and benchmarks compare the
# real rp2 port (simulator/pico.py) with the CPython simulator through this.
#
# A trace says what the app asked for at each ms ("motor": 0-100, "led": [r, g, b]); the
# pins say when the hardware did it. The motor driver ramps up from still (soft start), so
# one trace change can be several PWM writes: a change is judged by when the pin first
# moves and what it has settled on by the end of the tolerance.


def pin_series(changes, scale):
    """[(t, value)] from simulator.pico Change records: a running PWM's duty, or a stopped
    slice's or a plain output's level, times `scale`, rounded. An input (nothing drives the
    pin, as before boot.py runs) counts as 0: the motor driver's gate pull-down keeps it
    off."""
    out = []
    for c in changes:
        value = 0 if c.duty is None else round(c.duty * scale)
        if not out or out[-1][1] != value:
            out.append((c.t, value))
    return out


def trace_series(records, output):
    """[(t, value)] of one output of trace records: "motor" (%) or "led" (the brightest
    channel, 0-255: what a mono PWM LED shows), one entry per change. A value the trace
    replaces within the same ms lasted no time (a wake's update, then its press): only
    the last value of each ms is held."""
    out = []
    for r in records:
        value = r["motor"] if output == "motor" else max(r["led"])
        if out and out[-1][0] == r["t"]:
            out.pop()
        if not out or out[-1][1] != value:
            out.append((r["t"], value))
    return out


def value_at(series, t):
    """The value a series holds at time t (None before its first entry)."""
    value = None
    for at, v in series:
        if at > t:
            break
        value = v
    return value


def motor_series(series, rated_mv, cell_mv, scale=1000):
    """A trace's motor series (% of the rated voltage) as the duty the drive writes from
    a cell read at cell_mv (massager/hal/motor.py: volts over the cell), times `scale`
    and rounded, as pin_series gives it."""
    return [(t, round(p * rated_mv // 100 * 65535 // cell_mv * scale / 65535))
            for t, p in series]


TICK_MS = 1  # the chip's ticks_ms: a button edge's stamp, and so each decision it makes


def compare(expected, actual, offset, tolerance, off_by=0, early=0.0, start_ms=0, wakes=()):
    """Hold the pins to a trace: (problems, lags).

    expected: trace_series; actual: pin_series; offset: the pins' time of the trace's 0.
    Every expected change must show on the pin no earlier than scheduled (less `early` ms,
    when the offset itself is known only that closely) and be settled `tolerance` ms later;
    every pin change must fall in such a window. lags: for each expected change, ms from
    the schedule to the pin's first move. Values match within `off_by` (a duty the PWM
    registers round). `start_ms`: a start from 0 is a soft start the trace does not hold
    (the motor's kick, hal/motor.py) lasting that long from the pin's first move (a wake's
    latency later than the schedule, and a tick's slack as `early`): a change inside it
    need not show before the next one, nor the value before it, and settles as usual after
    it. A change the next one follows within its window need only show inside that window
    and before the next value (the pin, a moment late, may show it after the next one's
    schedule).

    `wakes`: the trace's ms of every record (a wake of the replay that changed an output).
    The chip stamps a button edge on its own ms grid, which the replay's lies up to a tick
    from: where the edge's gesture falls due in the same ms as another change (a click's
    pause and the next glide), the two engines may take them in either order. So a value
    held for a tick at most, then undone, is an excursion either side may lack: the pin
    may skip one the trace holds, and may show one (a kick of the motor and back) the
    trace lacks, within a tick of a wake.
    """
    problems, lags = [], []
    end = expected[-1][0] + offset + tolerance
    windows = []
    ramp_end = None  # where the soft start under way ends (pin ms)
    cut = False  # the last change was followed by the next before its window was over
    for i, (t, v) in enumerate(expected):
        at = t + offset - early
        nxt = expected[i + 1][0] + offset - early if i + 1 < len(expected) else end
        settle = min(at + early + tolerance, nxt)
        moved = [a for a, _ in actual if at <= a <= settle]
        if 0 < i < len(expected) - 1 and expected[i + 1][0] - t <= TICK_MS and \
                expected[i + 1][1] == expected[i - 1][1]:
            windows.append((at, at + early + tolerance))  # an excursion the pin may skip
            cut = True
            continue
        started = start_ms and i > 0 and v and not expected[i - 1][1]
        if started:
            ramp_end = (moved[0] if moved else t + offset) + start_ms + early
        in_ramp = ramp_end is not None and at < ramp_end
        if in_ramp and v and nxt < ramp_end:
            windows.append((at, nxt))  # the kick covers it: the pin may never show it
            cut = True
            continue
        if i > 0 and not cut and not (in_ramp and not started):  # the first: the state before
            before = value_at(actual, at - 0.001)
            if not _same(before, expected[i - 1][1], off_by):
                problems.append("t=%d: %s before the change to %s, expected %s" % (
                    t, before, v, expected[i - 1][1]))
            if moved:
                lags.append(moved[0] - at)
        cut = nxt < at + early + tolerance and nxt < end
        if cut:
            # The next change comes before this one's window is over: the pin, a moment
            # late, may show this value only after the next one's schedule. It must show
            # it within its window, before the next value.
            shown = [value_at(actual, at)] + [
                w for a, w in actual if at <= a <= at + early + tolerance]
            k = next((j for j, w in enumerate(shown) if _same(w, v, off_by)), None)
            # The next value may be the one held before (a blink): only a move to it
            # after the schedule and before this value is out of order.
            if k is None or any(_same(w, expected[i + 1][1], off_by) and
                                not _same(w, v, off_by) for w in shown[1:k]):
                problems.append("t=%d: %s never shown before the next change" % (t, v))
            windows.append((at, at + early + tolerance))
            continue
        if not _same(value_at(actual, settle), v, off_by):
            problems.append("t=%d: %s at +%d ms, expected %s" % (
                t, value_at(actual, settle), settle - at, v))
        windows.append((at, settle))
    excursions = set()  # indexes into actual: a tick's excursion near a wake, and its end
    for k in range(1, len(actual) - 1):
        a, back = actual[k][0], actual[k + 1]
        if back[0] - a < TICK_MS and back[1] == actual[k - 1][1] and any(
                abs(w + offset - a) <= TICK_MS + early for w in wakes):
            excursions.update((k, k + 1))
    for k, (a, v) in enumerate(actual):
        if expected[0][0] + offset < a <= end and k not in excursions and \
                not any(s <= a <= e for s, e in windows):
            problems.append("t=%.1f: the pin changed to %s outside any scheduled change" % (
                a - offset, v))
    return problems, lags


def _same(got, want, off_by):
    return got is not None and abs(got - want) <= off_by
