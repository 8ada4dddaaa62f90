"""Freezing the start-up heap: what exists is exempt from collections, what
comes later is still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from vigil.heap import freeze_startup_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_the_start_up_heap_is_frozen_and_later_garbage_still_collected() -> None:
    built = [_Node() for _ in range(1000)]  # the registry, the rules
    assert freeze_startup_heap() >= 1000
    walked = {id(o) for o in gc.get_objects()}  # what a full collection would visit
    assert id(built) not in walked and not any(id(n) in walked for n in built)
    later = _Node()
    gone = weakref.ref(later)
    del later
    gc.collect()
    assert gone() is None
