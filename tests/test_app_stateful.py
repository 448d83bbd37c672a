# Random button edges and time jumps through the app, with the invariants checked after
# every step: the limits in safety.py hold whatever a person (or a stuck button) does.
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from helpers import builtin
from massager import app
from promised import CONTINUOUS_RUN, DUTY_CAP, IDLE_OFF, PAUSE_STOP, SESSION_CAP

PROGRAMS = [builtin("daily"), builtin("weekly")]


class Output:
    def __init__(self):
        self.motor = 0
        self.max_motor = 0

    def show(self, motor, r, g, b):
        self.motor = motor
        self.max_motor = max(self.max_motor, motor)


class AppMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.out = Output()
        self.app = app.App(PROGRAMS, self.out)
        self.now = 0
        self.app.begin(0)
        self.pressed = False

    def _advance_to(self, t):
        # Like the device loop: wake at every next_wake() on the way.
        while True:
            wake = self.app.next_wake()
            if wake is None or wake > t:
                break
            self.now = max(self.now, wake)
            self.app.update(self.now)
        self.now = t
        self.app.update(t)

    @rule(ms=st.integers(0, 3000))
    def edge(self, ms):
        self._advance_to(self.now + ms)
        self.pressed = not self.pressed
        self.app.edge(self.pressed, self.now)

    @rule(gesture=st.sampled_from(["short", "double", "long"]), ms=st.integers(0, 5000))
    def gesture(self, gesture, ms):
        self._advance_to(self.now + ms)
        before = self.app.state
        self.app.press(gesture, self.now)
        if gesture == "long" and before in (app.RUNNING, app.PAUSED):
            assert self.app.state == app.IDLE and self.out.motor == 0

    @rule(ms=st.sampled_from([1000, 60000, IDLE_OFF, SESSION_CAP]))
    def wait(self, ms):
        self._advance_to(self.now + ms)

    @invariant()
    def motor_within_cap_and_only_when_running(self):
        assert self.out.max_motor <= DUTY_CAP
        if self.app.state != app.RUNNING:
            assert self.out.motor == 0

    @invariant()
    def time_limits_hold(self):
        a = self.app
        if a.state in (app.RUNNING, app.PAUSED):
            assert self.now - a.session_start < SESSION_CAP
        if a.state == app.PAUSED:
            assert self.now - a.since < PAUSE_STOP
        if a.state == app.IDLE:
            assert self.now - a.since < IDLE_OFF
        if a.motor_on_since is not None:
            assert self.now - a.motor_on_since < CONTINUOUS_RUN

    @invariant()
    def a_stuck_button_stops_the_motor(self):
        if self.app.gestures.stuck:
            assert self.out.motor == 0


AppMachine.TestCase.settings = settings(max_examples=1000, stateful_step_count=25,
                                        deadline=None)
test_app_state_machine = AppMachine.TestCase
