# Gesture decoding from raw edges, on an injected clock.
from massager import button
from massager.button import Gestures


def feed(edges, until):
    """edges: [(ms, pressed)]; returns [(ms, gesture)] including time-decided ones."""
    g = Gestures()
    out = []
    edges = list(edges)
    now = 0
    while now <= until:
        deadline = g.deadline()
        nxt = edges[0][0] if edges else None
        cands = [t for t in (deadline, nxt) if t is not None]
        if not cands:
            break
        now = min(cands)
        if now > until:
            break
        if edges and edges[0][0] == now:
            gesture = g.edge(edges.pop(0)[1], now)
        else:
            gesture = g.poll(now)
        if gesture:
            out.append((now, gesture))
    return out


def test_short_press_is_decided_after_the_double_window():
    assert feed([(0, True), (120, False)], 5000) == [(520, button.SHORT)]


def test_two_quick_presses_are_a_double():
    assert feed([(0, True), (100, False), (250, True), (330, False)], 5000) == [
        (330, button.DOUBLE)]


def test_contact_bounce_is_ignored():
    edges = [(0, True), (10, False), (20, True), (150, False), (160, True), (170, False)]
    assert feed(edges, 5000) == [(550, button.SHORT)]


def test_a_tap_quicker_than_the_debounce_is_a_click_never_a_held_button():
    # Released 30 ms after the press: the release lands in the debounce window. The
    # decoder takes the released level when the window ends, instead of believing the
    # button held (which became a long press that stopped a session, then power off).
    assert feed([(10000, True), (10030, False)], 20000) == [(10450, button.SHORT)]
    assert feed([(0, True), (30, False), (200, True), (230, False)], 5000) == [
        (250, button.DOUBLE)]


def test_a_bounce_that_settles_pressed_stays_a_press():
    assert feed([(0, True), (10, False), (20, True)], 1500) == [(1000, button.LONG)]


def test_long_hold_and_stuck_fire_while_held_and_release_is_quiet():
    assert feed([(0, True), (12000, False)], 20000) == [
        (1000, button.LONG), (3000, button.HOLD), (10000, button.STUCK)]


def test_a_long_press_cancels_a_pending_click():
    assert feed([(0, True), (100, False), (300, True), (1500, False)], 5000) == [
        (1300, button.LONG)]
