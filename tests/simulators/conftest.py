"""Fixtures for the simulator tests: the facilities, and a simulated normal
week of the small facility shared by the tests that only read it."""

from __future__ import annotations

import time

import pytest

from simulators import Simulation
from tests.simulators.simkit import SMALL_FACILITY, START_NS, WEEK_NS, SimulatedWeek, every_profile_facility
from vigil.registry import Registry, load_registry


@pytest.fixture(scope="session")
def small_facility() -> Registry:
    return load_registry(SMALL_FACILITY)


@pytest.fixture(scope="session")
def every_profile() -> Registry:
    return every_profile_facility()


@pytest.fixture(scope="session")
def small_week(small_facility: Registry) -> SimulatedWeek:
    began = time.perf_counter()
    readings = list(Simulation(small_facility, seed=11, start_ns=START_NS).readings_between(START_NS, START_NS + WEEK_NS))
    return SimulatedWeek(small_facility, readings, time.perf_counter() - began)
