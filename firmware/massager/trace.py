# The trace: one JSON line per output change, integers only, keys in a fixed order
# (DESIGN.md section 3). Formatted by hand so CPython and MicroPython give the same bytes.


def _num(value):
    return "null" if value is None else str(value)


def line(app, now):
    return '{"t": %d, "motor": %d, "led": [%d, %d, %d], "state": "%s", "step": %s, ' \
           '"round": %s, "rep": %s, "cue": "%s"}' % (
               now, app.motor, app.led_r, app.led_g, app.led_b, app.state,
               _num(app.step), _num(app.round), _num(app.rep), app.cue)
