"""Pause, single step, speed ladder and stop, as the producer thread sees them."""

import threading

from tui_optim.runner.pacing import SPEEDS, Pacer


def test_unthrottled_grants_everything_asked():
    assert Pacer(None).grant(12345) == 12345


def test_paused_grants_exactly_one_record_per_step_request():
    p = Pacer(None)
    p.pause()
    p.step_once()
    p.step_once()
    assert p.grant(1000) == 1
    assert p.grant(1000) == 1
    # A third grant would block: stop releases it with 0.
    result = []
    t = threading.Thread(target=lambda: result.append(p.grant(1000)))
    t.start()
    p.stop()
    t.join(5)
    assert result == [0]


def test_step_once_pauses_a_running_pacer():
    p = Pacer(None)
    p.step_once()
    assert p.paused
    assert p.grant(50) == 1


def test_should_stop_ends_a_paused_wait():
    p = Pacer(None)
    p.pause()
    assert p.grant(10, should_stop=lambda: True) == 0


def test_throttled_grant_never_exceeds_a_tenth_of_a_second_of_work():
    p = Pacer(100.0)
    n = p.grant(10_000)
    assert 1 <= n <= 10


def test_speed_ladder_walks_and_saturates():
    p = Pacer(None)
    assert p.slower() == SPEEDS[-2]
    assert p.faster() is None
    assert p.faster() is None
    p.set_speed(1)
    assert p.slower() == 1
    assert p.faster() == SPEEDS[1]


def test_toggle_pause_reports_state():
    p = Pacer(None)
    assert p.toggle_pause() is True
    assert p.toggle_pause() is False
