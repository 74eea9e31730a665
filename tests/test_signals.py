"""SIGINT and SIGTERM (contract section 8): exit 130 and 143 with `interrupted; nothing was written`,
at any moment (starting, reading the inputs, writing the run), the previous run untouched byte for
byte and no temporary folder left; once the new run is in place a signal is ignored and the build
exits 0.

Real `audience` processes on a sample big enough that a build takes a few seconds; each moment is
recognised from outside, not guessed from a delay: the handlers installed (/proc), the lock file
holding the build's pid (it is taken right before the inputs are read), the temporary folder
appearing beside the run.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from audiencecli import outputs
from audiencecli.cli import app
from conftest import Campaign, consent, customer

INTERRUPTED = "interrupted; nothing was written\n"
CUSTOMERS = 50_000  # a build takes a few seconds: each moment lasts long enough to be caught


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def temporary(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".audience-tmp-*"))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("signals") / "data"
    made = subprocess.run([sys.executable, "-m", "audiencecli", "sample", str(folder), "--customers",
                           str(CUSTOMERS), "--quiet"], capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    return folder


@pytest.fixture
def previous_run(data) -> Path:
    """A finished run of the sample, as cron's last successful build left it."""
    target = data / "out"
    if not (target / "manifest.json").is_file():
        done = subprocess.run([sys.executable, "-m", "audiencecli", "build", str(data / "campaign.toml"),
                               "--quiet"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    assert temporary(data) == []
    return target


def handlers_installed(process: subprocess.Popen) -> bool:
    """The process catches SIGTERM (its handler is installed): read from /proc."""
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def interrupt(command: list[str], when: Callable[[subprocess.Popen], bool], sig: int) -> tuple[int, str]:
    """Start the command, send `sig` the moment `when` holds, return its exit code and stderr."""
    process = subprocess.Popen([sys.executable, "-m", "audiencecli", *command], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not when(process):
            assert process.poll() is None, "the command ended before the moment came: use a larger sample"
            assert time.monotonic() < deadline
            time.sleep(0.001)
        process.send_signal(sig)
        sent = time.monotonic()
        stderr = process.communicate(timeout=60)[1]
        assert time.monotonic() - sent < 30, "it took long to stop"
        return process.returncode, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def starting(process: subprocess.Popen) -> bool:
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc here: the moment the handlers are installed cannot be seen")
    return handlers_installed(process)


def reading(data: Path) -> Callable[[subprocess.Popen], bool]:
    """The build holds its lock (it writes its pid in the lock file) and reads the inputs."""
    def moment(process: subprocess.Popen) -> bool:
        try:
            return (data / ".out.lock").read_text().strip() == str(process.pid)
        except OSError:
            return False
    return moment


def writing(data: Path) -> Callable[[subprocess.Popen], bool]:
    """The new run is being written into its temporary folder beside the old one."""
    return lambda _process: any(data.glob(".audience-tmp-out-*/*"))


@pytest.mark.parametrize("moment", ["starting", "reading", "writing"])
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_build_and_leaves_the_previous_run(data, previous_run, moment, sig, code):
    before = files(previous_run)
    when = {"starting": starting, "reading": reading(data), "writing": writing(data)}[moment]

    exit_code, stderr = interrupt(["build", str(data / "campaign.toml"), "--quiet"], when, sig)

    assert (exit_code, stderr) == (code, INTERRUPTED)
    assert files(previous_run) == before
    assert temporary(data) == []


def test_a_signal_stops_sample_and_leaves_nothing(tmp_path):
    target = tmp_path / "data"

    exit_code, stderr = interrupt(["sample", str(target), "--customers", str(CUSTOMERS), "--quiet"],
                                  lambda _process: any(target.glob(".audience-tmp-*/*")), signal.SIGTERM)

    assert (exit_code, stderr) == (143, INTERRUPTED)
    assert not target.exists()
    again = CliRunner().invoke(app, ["sample", str(target), "--customers", "20", "--quiet"])
    assert again.exit_code == 0, again.stderr


# --- once the new run is in place --------------------------------------------------------------
# In the test's own process: the signal is sent by the build itself, right before or right after
# its run is swapped into place, which no outside process could time.

@pytest.mark.parametrize("sent", ["while the run is put in place", "once the run is in place"])
def test_a_signal_once_the_run_is_in_place_is_ignored(tmp_path, monkeypatch, sent):
    campaign = Campaign(root=tmp_path)
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.consents = [consent("C1")]
    first = campaign.build()
    assert first.exit_code == 0, first.stderr
    swap = outputs._swap_into_place

    def swap_and_signal(temp: Path, target: Path) -> None:
        if sent == "while the run is put in place":
            os.kill(os.getpid(), signal.SIGTERM)
        swap(temp, target)
        if sent == "once the run is in place":
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(outputs, "_swap_into_place", swap_and_signal)
    campaign.consents = [consent("C1"), consent("C2")]

    run = campaign.build()

    assert run.exit_code == 0, run.stderr
    assert "interrupted" not in run.stderr
    assert set(run.sendable("email")) == {"C1", "C2"}  # the new run
    assert temporary(tmp_path) == []
