"""Two builds into one run directory (contract section 8): the second exits 5 at once, naming the
directory and the first one's process id; the lock is the operating system's, so it is gone the
moment its holder is, however it ended (here: SIGKILL: the file it leaves locks nothing); the
config is read before it is taken."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from audiencecli.errors import OutputError
from audiencecli.outputs import run_lock
from conftest import Campaign, consent, customer

HOLD = """
import sys, time
from pathlib import Path
from audiencecli.outputs import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def audience(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiencecli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of tmp_path/run, as a build would while it runs."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "run")], stdout=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout.readline() == "held\n"
        yield process
    finally:
        process.kill()
        process.wait(timeout=30)


def campaign_in(root: Path) -> Campaign:
    campaign = Campaign(root=root)
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.consents = [consent("C1")]
    return campaign


def test_a_second_build_into_the_same_directory_exits_5_at_once_naming_the_holder(tmp_path, holder):
    campaign = campaign_in(tmp_path)
    campaign.customers.append(customer("C1"))  # a duplicate id: exit 3 had the inputs been read
    config = campaign.write()
    target = tmp_path / "run"

    result = audience("build", config, "--out", target, "--quiet")

    assert result.returncode == 5
    assert result.stderr == (f"{target}: another build (process {holder.pid}) is writing this run directory "
                             "(it holds .run.lock); nothing was written, try again when it has finished\n")
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.lock", "campaign.toml", "consents.csv",
                                                           "customers.csv"]


def test_a_config_error_is_reported_before_the_lock_is_taken(tmp_path, holder):
    campaign = campaign_in(tmp_path)
    campaign.campaign = {"colour": "blue"}
    result = audience("build", campaign.write(), "--out", tmp_path / "run", "--quiet")
    assert result.returncode == 2, result.stderr
    assert "colour" in result.stderr


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path, holder):
    config = campaign_in(tmp_path).write()
    target = tmp_path / "run"
    assert audience("build", config, "--out", target, "--quiet").returncode == 5

    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    result = audience("build", config, "--out", target, "--quiet")

    assert result.returncode == 0, result.stderr
    assert (target / "manifest.json").is_file()
    assert not (tmp_path / ".run.lock").exists()  # the file the killed one left was taken over, then removed


def test_a_build_into_another_directory_is_not_locked(tmp_path, holder):
    config = campaign_in(tmp_path).write()
    result = audience("build", config, "--out", tmp_path / "other-run", "--quiet")
    assert result.returncode == 0, result.stderr


def test_a_python_caller_holds_the_lock_with_a_context_manager(tmp_path):
    target = tmp_path / "out" / "run"
    with run_lock(target) as lock_file:
        assert lock_file == tmp_path / "out" / ".run.lock"
        assert lock_file.read_text() == f"{os.getpid()}\n"
        assert oct(lock_file.stat().st_mode & 0o777) == "0o600"
        with pytest.raises(OutputError, match=f"another build \\(process {os.getpid()}\\)"):
            with run_lock(target):
                pass
    assert not (tmp_path / "out").exists()  # the lock file and the folder made for it are gone
    with run_lock(target):  # released at the end of the block
        pass


def test_a_lock_file_its_holder_removes_as_it_lets_go_is_taken_again(tmp_path, monkeypatch):
    # The moment between opening the file and locking it: the holder finishing meanwhile removes
    # the file, so the lock taken is on a file no longer at the path; it must not count.
    from audiencecli import outputs

    target = tmp_path / "run"
    flock = outputs.fcntl.flock
    calls = []

    def holder_lets_go_first(fd, operation):
        if not calls:
            os.unlink(tmp_path / ".run.lock")
        calls.append(fd)
        return flock(fd, operation)

    monkeypatch.setattr(outputs.fcntl, "flock", holder_lets_go_first)
    with run_lock(target) as lock_file:
        assert len(calls) == 2
        assert lock_file.read_text() == f"{os.getpid()}\n"
        monkeypatch.setattr(outputs.fcntl, "flock", flock)
        with pytest.raises(OutputError):  # the lock held is the one at the path
            with run_lock(target):
                pass
