"""The explorer's keys in a real terminal at 80x24 under NO_COLOR (tmux), as a learner over SSH meets them."""

from __future__ import annotations

from tests.e2e.test_terminal import NNVIEW, Tmux, session, tmux  # noqa: F401 - fixtures, used by name


def starts_a_line(text: str, start: str) -> bool:
    return any(line.strip().startswith(start) for line in text.splitlines())


def test_keys_at_80x24_no_color(tmux: Tmux, session: str) -> None:  # noqa: F811
    assert NNVIEW is not None
    tmux.start(session, 80, 24, [NNVIEW, "models/simple.py", "--no-watch"], env={"NO_COLOR": "1"})
    screen = tmux.wait_text(session, "[first 4 r", "fc3", "? Help q Quit")  # help and quit always in the footer
    assert "\x1b[38;2" not in tmux.screen(session, escapes=True)  # no 24-bit colour under NO_COLOR
    lines = screen.splitlines()
    assert lines[-1].startswith("? Help q Quit")
    tmux.keys(session, "End")  # the last layer, not a sideways scroll
    tmux.wait(session, lambda t: starts_a_line(t, "fc3  Linear"), "fc3 in the detail")
    tmux.keys(session, "Home")
    tmux.wait(session, lambda t: starts_a_line(t, "SimpleNN  SimpleNN"), "the root")
    tmux.keys(session, "s")  # one step: the status line and the curves tab
    screen = tmux.wait_text(session, "paused epoch 1/100 step 1 lr 0.01", "loss by epoch", "accuracy")
    assert "·· step" in screen, screen  # the legend shows the series by its glyph, not colour
    tmux.keys(session, "v")
    screen = tmux.wait_text(session, "layer dead sat grad upd/w")
    assert "fc1" in screen and "fc2" in screen
    tmux.keys(session, "Enter")  # back to the detail
    tmux.wait_text(session, "SimpleNN SimpleNN", "sample 1/4: 3 values")
    tmux.keys(session, "-")
    tmux.wait_text(session, "at most 300 steps/s")
    tmux.keys(session, "?")
    tmux.wait_text(session, "home/end, g/G", "the first / the last layer")
    tmux.keys(session, "Escape")  # alone: Escape then q in one read is alt+q to a terminal
    tmux.wait(session, lambda t: "esc to close" not in t, "the help closed")
    tmux.keys(session, "q")
    tmux.wait_text(session, "not saved")  # one unsaved step: asked before quitting
    tmux.keys(session, "d")
    assert tmux.exit_status(session) == 0
