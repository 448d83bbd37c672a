# `massager history`: the sessions the device remembers (firmware/massager/history.py), as
# a table, a summary against the guide's advice, JSON, or minutes per day drawn.
#
# The guide's advice (README): a short session of 1-2 minutes every day, and the full
# routine (10-15 minutes, all 10 steps) once a week.
import datetime

from massager import history

DAILY_MIN_S = 60  # a session that ran this long counts as the day's (the guide: 1-2 min)
FULL_MIN_S = 10 * 60  # a routine this long, played to its end, is the week's full one


def fetch(dev):
    """The device's records, oldest first ([] when it has none yet)."""
    from host_tools.device import DeviceError

    try:
        data = dev.read_file("/" + history.FILE)
    except DeviceError as e:
        if "no such file" in str(e):
            return []
        raise
    return history.parse(data)


def when(record):
    """The record's datetime, or None (the clock was not set)."""
    w = record["when"]
    return None if w is None else datetime.datetime(*w)


def _clock(s):
    return "%d:%02d" % (s // 60, s % 60)


def table(records):
    """The records as aligned text lines, oldest first."""
    rows = [("#", "date", "routine", "level", "ran", "session", "ending")]
    for r in records:
        w = when(r)
        rows.append((str(r["seq"] + 1), w.strftime("%Y-%m-%d %H:%M") if w else "(no clock)",
                     r["routine"], str(r["level"]), _clock(r["ran_s"]),
                     _clock(r["session_s"]), r["ending"]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]


def minutes_per_day(records):
    """{date: minutes of massage (running time)} of the dated records."""
    days = {}
    for r in records:
        w = when(r)
        if w is not None:
            days[w.date()] = days.get(w.date(), 0) + r["ran_s"] / 60
    return days


def summary(records, today=None):
    """The week against the guide's advice, as a dict (also what --json adds)."""
    today = today or datetime.date.today()
    week = [today - datetime.timedelta(days=k) for k in range(7)]
    daily = {w.date() for w in (when(r) for r in records if r["ran_s"] >= DAILY_MIN_S)
             if w is not None}
    full = [r for r in records if r["ending"] == "done" and r["routine_s"] >= FULL_MIN_S
            and when(r) is not None and when(r).date() in week]
    streak = 0
    day = today if today in daily else today - datetime.timedelta(days=1)
    while day in daily:
        streak += 1
        day -= datetime.timedelta(days=1)
    last = records[-1] if records else None
    return {"sessions": len(records),
            "undated": sum(1 for r in records if r["when"] is None),
            "days_this_week": sum(1 for d in week if d in daily),
            "full_routine_this_week": bool(full),
            "streak_days": streak,
            "minutes_this_week": round(sum(v for d, v in minutes_per_day(records).items()
                                           if d in week), 1),
            "last": last}


def summary_lines(s):
    lines = ["%d session(s) remembered" % s["sessions"]
             + (", %d without a date (the clock was not set: any massager command sets it)"
                % s["undated"] if s["undated"] else "")]
    lines.append("this week: a session of 1 min or more on %d of 7 days (the guide: every "
                 "day), %.0f min in all" % (s["days_this_week"], s["minutes_this_week"]))
    lines.append("full routine this week: %s (the guide: once a week)"
                 % ("yes" if s["full_routine_this_week"] else "not yet"))
    lines.append("streak: %d day(s) in a row" % s["streak_days"])
    return lines


def last_line(records):
    """One line about the last session, for `massager doctor`."""
    if not records:
        return "no session remembered yet"
    r = records[-1]
    w = when(r)
    return "%d session(s) remembered, the last %s: %s, %s, %s" % (
        len(records), w.strftime("%Y-%m-%d %H:%M") if w else "(no date)", r["routine"],
        _clock(r["ran_s"]), r["ending"])


def plot(records, out, days=28, today=None):
    """Minutes per day over the last `days` days, as a bar chart (PNG/SVG by extension)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    today = today or datetime.date.today()
    per_day = minutes_per_day(records)
    dates = [today - datetime.timedelta(days=k) for k in range(days - 1, -1, -1)]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.bar(dates, [per_day.get(d, 0) for d in dates], color="#2a9d8f", width=0.8)
    ax.axhline(1, color="#e76f51", linestyle="--", linewidth=1, label="the guide: 1-2 min a day")
    ax.set_ylabel("minutes of massage")
    ax.set_title("Sessions per day, last %d days" % days)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
