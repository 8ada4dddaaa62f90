"""Fault injection into simulated gateways that are already running
(`vigil simulate --scenario NAME` while `make run` runs): commands are
appended to a file in the state directory, and every running gateway's
simulated source applies those aimed at its own assets within a second."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from simulators.scenarios import SCENARIOS
from simulators.source import SimulatedSource
from vigil.contract import Reading
from vigil.registry import Registry

log_name = "vigil.simulators"


@dataclass(frozen=True)
class FaultCommand:
    action: Literal["inject", "clear"]
    scenario: str
    asset: str


def control_path(state_dir: Path) -> Path:
    return state_dir / "simulation" / "commands.jsonl"


def issue(state_dir: Path, command: FaultCommand) -> None:
    """Append `command` for the running gateways to pick up."""
    path = control_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(asdict(command)) + "\n")


def fitting_asset(registry: Registry, scenario: str, asset: str | None = None) -> str:
    """`asset` if the scenario fits it, else the first asset (by id) it fits."""
    sc = SCENARIOS.get(scenario)
    if sc is None:
        raise ValueError(f"unknown scenario {scenario!r}; `vigil simulate --list` lists them")
    fitting = sorted({s.asset for s in registry.sensors.values() if sc.applies_to(s)})
    if asset is None:
        if not fitting:
            raise ValueError(f"no asset of this facility fits scenario {scenario!r} (profiles: {', '.join(sorted(sc.profiles))})")
        return fitting[0]
    if asset not in fitting:
        raise ValueError(f"scenario {scenario!r} does not fit asset {asset!r} (it fits: {', '.join(fitting[:12]) or 'none'})")
    return asset


class ControlledSource:
    """A simulated source that also obeys the commands in the control file.
    Commands issued before it started are history and are not replayed."""

    def __init__(self, source: SimulatedSource, state_dir: Path, check_every_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.source = source
        self.path = control_path(state_dir)
        self.check_every_s = check_every_s
        self._clock = clock
        self._next_check = 0.0
        self._offset = self.path.stat().st_size if self.path.exists() else 0
        self._assets = {m.sensor.asset for m in source.simulation.models.values()}
        self.applied: list[FaultCommand] = []

    @property
    def poll_interval_s(self) -> float:
        return self.source.poll_interval_s

    def poll(self) -> list[Reading]:
        if self._clock() >= self._next_check:
            self._next_check = self._clock() + self.check_every_s
            self._apply_new_commands()
        return self.source.poll()

    def _apply_new_commands(self) -> None:
        try:
            with self.path.open() as f:
                f.seek(self._offset)
                text = f.read()
        except OSError:
            return
        complete, _, _ = text.rpartition("\n")  # a line still being written waits for the next check
        if not complete:
            return
        self._offset += len(complete.encode()) + 1
        for line in complete.splitlines():
            try:
                command = FaultCommand(**json.loads(line))
            except (ValueError, TypeError):
                continue  # a hand-edited line that is not a command
            if command.asset not in self._assets:
                continue
            try:
                if command.action == "inject":
                    self.source.inject(command.scenario, command.asset)
                else:
                    self.source.clear(command.scenario, command.asset)
            except ValueError:
                continue
            self.applied.append(command)
