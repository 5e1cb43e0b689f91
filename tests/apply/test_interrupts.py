"""Stop requests: signals before and during work, and errors unwrapped from task groups."""

from __future__ import annotations

import os
import signal

import pytest

from reconciler.apply.interrupts import Interrupted, Stopper, deliberate_error, interruptible
from reconciler.errors import LakeError


class _Target:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bool]] = []

    def request_stop(self, reason: str, kind: str = "signal", *, abandon: bool = False) -> None:
        self.calls.append((reason, kind, abandon))


def test_the_first_signal_drains_and_a_second_abandons():
    target = _Target()
    stopper = Stopper(target=target)
    stopper.on_signal(signal.SIGTERM)
    stopper.on_signal(signal.SIGINT)
    assert stopper.signal == signal.SIGTERM and stopper.reason.startswith("interrupted by SIGTERM")
    assert [(k, a) for _, k, a in target.calls] == [("signal", False), ("signal", True)]


def test_a_stop_before_work_is_kept_for_the_executor():
    stopper = Stopper()
    stopper.stop("lost the lock 'lake'", "lock")
    assert (stopper.reason, stopper.kind) == ("lost the lock 'lake'", "lock")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_while_nothing_is_started_a_signal_interrupts_at_once(sig):
    before = signal.getsignal(sig)
    with pytest.raises(Interrupted) as caught, interruptible():
        os.kill(os.getpid(), sig)
        for _ in range(10_000_000):  # the handler runs between two bytecodes
            pass
    assert caught.value.signum == sig
    assert signal.getsignal(sig) is before  # restored


def test_a_deliberate_error_is_unwrapped_from_nested_groups():
    err = LakeError("silver/x: unreadable")
    group = BaseExceptionGroup("outer", [ExceptionGroup("inner", [ValueError("bug"), err])])
    assert deliberate_error(group) is err
    assert deliberate_error(ExceptionGroup("g", [ValueError("bug")])) is None
