"""When the output cannot be written (contract section 8, exit 5): a full disk, a denied permission,
a read-only filesystem. Every command that writes says which file and why in one line, leaves the
previous output as it was and nothing half-written or temporary beside it, and can simply be run
again once the cause is gone.

A full disk is a real one where it can be had: a small tmpfs (mounting needs root, which these
tests have in CI; elsewhere they are skipped, saying why). The same behaviour is also checked
anywhere with writes that fail as a full disk's do.
"""
from __future__ import annotations

import errno
import io
import os
import pathlib
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiencecli import outputs
from audiencecli.cli import app
from conftest import Campaign, consent, customer

FULL = "No space left on device"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def files(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, hidden ones too, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def small_campaign(root: Path) -> Campaign:
    campaign = Campaign(root=root)
    campaign.customers = [customer(f"C{n}") for n in range(1, 40)]
    campaign.consents = [consent(f"C{n}") for n in range(1, 40, 2)]
    return campaign


def build(config: Path, out: Path):
    return invoke("build", config, "--out", out, "--quiet")


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- a real full disk: a small tmpfs ------------------------------------------------------------

@contextmanager
def tmpfs(folder: Path, size: str = "512k"):
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(disk: Path) -> None:
    """Take every free page of the disk."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)


@pytest.fixture
def disk(tmp_path):
    with tmpfs(tmp_path / "disk") as folder:
        yield folder


def test_build_onto_a_full_disk_exits_5_naming_the_file_and_keeps_the_previous_run(disk):
    config = small_campaign(disk).write()
    target = disk / "run"
    assert build(config, target).exit_code == 0
    previous = files(target)
    fill(disk)
    before = entries(disk)

    result = build(config, target)

    assert result.exit_code == 5
    line = one_line(result.stderr)
    assert line.startswith(f"{target}/"), line
    assert line.endswith(f": cannot be written: {FULL}; nothing was written; "
                         f"the previous run in {target} is untouched"), line
    assert files(target) == previous
    assert entries(disk) == before  # no temporary folder


def test_sample_onto_a_full_disk_writes_nothing_and_can_be_run_again_without_force(disk):
    target = disk / "data"
    result = invoke("sample", target, "--customers", 3000, "--quiet")
    assert result.exit_code == 5
    line = one_line(result.stderr)
    assert line.startswith(f"{target}/") and line.endswith(f": cannot be written: {FULL}; nothing was written"), line
    assert entries(disk) == []  # not even the folder it made

    again = invoke("sample", target, "--customers", 100, "--quiet")
    assert again.exit_code == 0, again.stderr
    assert "campaign.toml" in entries(target)


def test_sample_with_force_onto_a_full_disk_leaves_the_previous_sample_as_it_was(disk):
    target = disk / "data"
    assert invoke("sample", target, "--customers", 100, "--quiet").exit_code == 0
    previous = files(target)
    result = invoke("sample", target, "--customers", 3000, "--force", "--quiet")
    assert result.exit_code == 5
    assert FULL in one_line(result.stderr)
    assert files(target) == previous


def test_init_onto_a_full_disk_exits_5_and_leaves_no_folder(disk):
    fill(disk)
    target = disk / "campaign"
    result = invoke("init", target)
    assert result.exit_code == 5
    assert one_line(result.stderr) == f"{target / 'campaign.toml'}: cannot be written: {FULL}; nothing was written"
    assert entries(disk) == ["filler"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    campaign = small_campaign(tmp_path_factory.mktemp("finished"))
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    return run.dir


@pytest.mark.parametrize("command", [("report", "--html", "report.html"), ("diff", "--out", "changes.csv")])
def test_report_and_diff_onto_a_full_disk_exit_5_and_leave_the_previous_file(disk, finished_run, command):
    name, option, file_name = command
    runs = [finished_run] if name == "report" else [finished_run, finished_run]
    target = disk / file_name
    target.write_text("the previous one\n", encoding="utf-8")
    fill(disk)
    result = invoke(name, *runs, option, target)
    assert result.exit_code == 5
    assert one_line(result.stderr) == f"{target}: cannot be written: {FULL}; nothing was written"
    assert target.read_text(encoding="utf-8") == "the previous one\n"
    assert entries(disk) == sorted(["filler", file_name])


def test_build_onto_a_read_only_filesystem_exits_5(disk):
    config = small_campaign(disk).write()
    target = disk / "run"
    assert build(config, target).exit_code == 0
    previous = files(disk)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    result = build(config, target)
    assert result.exit_code == 5
    assert one_line(result.stderr) == f"{disk / '.run.lock'}: cannot be written: Read-only file system; " \
                                      "nothing was written"
    assert files(disk) == previous


# --- anywhere: writes that fail as a full disk's do ---------------------------------------------

class FullDisk(io.RawIOBase):
    """A file that fails every write as a full disk does."""

    def __init__(self, real):
        self.real = real

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def close(self) -> None:
        self.real.close()
        super().close()


def fail_writes(monkeypatch) -> None:
    """From now on every file opened for writing fails when written to."""
    fdopen, path_open = os.fdopen, pathlib.Path.open

    def failing_fdopen(fd, mode="r", *args, **kwargs):
        handle = fdopen(fd, mode, *args, **kwargs)
        return FullDisk(handle) if "w" in mode else handle

    def failing_open(self, mode="r", *args, **kwargs):
        handle = path_open(self, mode, *args, **kwargs)
        return FullDisk(handle) if "w" in mode else handle

    monkeypatch.setattr(os, "fdopen", failing_fdopen)
    monkeypatch.setattr(pathlib.Path, "open", failing_open)


def test_build_whose_writes_fail_exits_5_and_keeps_the_previous_run(tmp_path, monkeypatch):
    config = small_campaign(tmp_path).write()
    target = tmp_path / "run"
    assert build(config, target).exit_code == 0
    previous = files(target)
    before = entries(tmp_path)
    fail_writes(monkeypatch)

    result = build(config, target)

    assert result.exit_code == 5
    line = one_line(result.stderr)
    assert line.startswith(f"{target}/"), line
    assert line.endswith(f": cannot be written: {FULL}; nothing was written; "
                         f"the previous run in {target} is untouched"), line
    assert files(target) == previous
    assert entries(tmp_path) == before


@pytest.mark.parametrize("step", ["manifest", "rename"])
def test_disk_full_while_writing_the_manifest_or_renaming_exits_5(tmp_path, monkeypatch, step):
    config = small_campaign(tmp_path).write()
    target = tmp_path / "run"
    assert build(config, target).exit_code == 0
    previous = files(target)
    before = entries(tmp_path)
    write_json = outputs._write_json

    def failing_json(path, data):
        if path.name == "manifest.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write_json(path, data)

    def failing_swap(temp, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    if step == "manifest":
        monkeypatch.setattr(outputs, "_write_json", failing_json)
    else:
        monkeypatch.setattr(outputs, "_swap_into_place", failing_swap)

    result = build(config, target)

    assert result.exit_code == 5
    named = target / "manifest.json" if step == "manifest" else target
    assert one_line(result.stderr) == (f"{named}: cannot be written: {FULL}; nothing was written; "
                                       f"the previous run in {target} is untouched")
    assert files(target) == previous
    assert entries(tmp_path) == before


def test_sample_whose_writes_fail_leaves_nothing_and_runs_again_without_force(tmp_path, monkeypatch):
    target = tmp_path / "data"
    fail_writes(monkeypatch)
    result = invoke("sample", target, "--customers", 50, "--quiet")
    assert result.exit_code == 5
    assert f"{target / 'customers.csv'}: cannot be written: {FULL}; nothing was written" == one_line(result.stderr)
    assert entries(tmp_path) == []
    monkeypatch.undo()
    again = invoke("sample", target, "--customers", 50, "--quiet")
    assert again.exit_code == 0, again.stderr


def test_init_report_and_diff_whose_writes_fail_exit_5(tmp_path, finished_run, monkeypatch):
    fail_writes(monkeypatch)
    for args, target in [(("init", tmp_path / "new"), tmp_path / "new" / "campaign.toml"),
                         (("report", finished_run, "--html", tmp_path / "page.html"), tmp_path / "page.html"),
                         (("diff", finished_run, finished_run, "--out", tmp_path / "changes.csv"),
                          tmp_path / "changes.csv")]:
        result = invoke(*args)
        assert result.exit_code == 5, (args, result.stderr)
        assert one_line(result.stderr) == f"{target}: cannot be written: {FULL}; nothing was written"
    assert entries(tmp_path) == []


# --- permission denied --------------------------------------------------------------------------

def as_a_user(command: list[str]) -> list[str]:
    """The command run without the power to write where the folder's mode forbids it. Root ignores
    a folder's mode (CAP_DAC_OVERRIDE): as root the command is run with that capability dropped
    (setpriv), which is what an operator's own account meets."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a folder's mode cannot deny root a write")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]


def audience(*args) -> subprocess.CompletedProcess:
    return subprocess.run(as_a_user([sys.executable, "-m", "audiencecli", *map(str, args)]),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def read_only(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)


def test_build_into_a_folder_without_write_permission_exits_5_and_keeps_the_previous_run(tmp_path, read_only):
    config = small_campaign(tmp_path).write()
    target = read_only / "run"
    first = audience("build", config, "--out", target, "--quiet")
    assert first.returncode == 0, first.stderr
    previous, before = files(target), entries(read_only)
    read_only.chmod(0o555)

    result = audience("build", config, "--out", target, "--quiet")

    assert result.returncode == 5
    assert one_line(result.stderr) == (f"{read_only / '.run.lock'}: cannot be written: Permission denied; "
                                       "nothing was written")
    assert files(target) == previous
    assert entries(read_only) == before == ["run"]


def test_a_build_without_write_permission_stops_before_reading_its_inputs(tmp_path, read_only):
    campaign = small_campaign(tmp_path)
    campaign.customers.append(customer("C1"))  # a duplicate id: exit 3 if the inputs were read
    config = campaign.write()
    read_only.chmod(0o555)
    result = audience("build", config, "--out", read_only / "run", "--quiet")
    assert result.returncode == 5
    assert one_line(result.stderr) == (f"{read_only / '.run.lock'}: cannot be written: Permission denied; "
                                       "nothing was written")


def test_a_build_whose_run_directory_cannot_be_replaced_exits_5(tmp_path, read_only):
    """The lock can be taken (its file is writable) but the folder cannot take a new run."""
    config = small_campaign(tmp_path).write()
    target = read_only / "run"
    assert audience("build", config, "--out", target, "--quiet").returncode == 0
    previous = files(target)
    lock_file = read_only / ".run.lock"
    lock_file.touch(mode=0o600)
    read_only.chmod(0o555)

    result = audience("build", config, "--out", target, "--quiet")

    assert result.returncode == 5
    assert one_line(result.stderr) == (f"{read_only}: cannot be written: Permission denied; nothing was written; "
                                       f"the previous run in {target} is untouched")
    assert files(target) == previous
    assert entries(read_only) == [".run.lock", "run"]  # it could not remove the lock file either


@pytest.mark.parametrize("command", ["sample", "init", "report", "diff"])
def test_other_commands_without_write_permission_exit_5(finished_run, read_only, command):
    read_only.chmod(0o555)
    args, named = {
        "sample": (("sample", read_only / "data", "--customers", 20, "--quiet"), read_only / "data"),
        "init": (("init", read_only / "new"), read_only / "new"),
        "report": (("report", finished_run, "--html", read_only / "page.html"), read_only / "page.html"),
        "diff": (("diff", finished_run, finished_run, "--out", read_only / "changes.csv"), read_only / "changes.csv"),
    }[command]
    result = audience(*args)
    assert result.returncode == 5, result.stderr
    assert one_line(result.stderr) == f"{named}: cannot be written: Permission denied; nothing was written"
    assert entries(read_only) == []
