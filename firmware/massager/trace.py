# The trace: one JSON line per output change, integers only, keys in a fixed order
# (DESIGN.md section 3). Formatted by hand so CPython and MicroPython give the same bytes.


def _num(value):
    return "null" if value is None else str(value)


def line(app, now, duty_u16=None):
    """The app's outputs at `now`; with `duty_u16`, the line a simulator records: the duty
    its motor pin holds, read from the simulated pin (the firmware never says it)."""
    text = '{"t": %d, "motor": %d, "led": [%d, %d, %d], "state": "%s", "step": %s, ' \
           '"round": %s, "rep": %s, "cue": "%s"}' % (
               now, app.motor, app.led_r, app.led_g, app.led_b, app.state,
               _num(app.step), _num(app.round), _num(app.rep), app.cue)
    return text if duty_u16 is None else with_duty(text, duty_u16)


def with_duty(text, duty_u16):
    """A line of line() with "duty_u16" last: what the motor's PWM pin holds."""
    return '%s, "duty_u16": %d}' % (text[:-1], duty_u16)
