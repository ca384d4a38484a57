"""Output files are written whole through a random temporary name, and never replace what is not a regular file."""

from __future__ import annotations

import os
import stat

import pytest

from casework.errors import InvalidInput
from casework.formats.files import atomic_path, write_bytes


def test_a_symlink_planted_at_the_old_temporary_name_is_not_followed(tmp_path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "export.csv"
    os.symlink(victim, f"{out}.part")
    write_bytes(str(out), b"data")
    assert out.read_bytes() == b"data" and victim.read_text() == "keep me"
    assert os.path.islink(f"{out}.part")  # left alone, not written through nor removed


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder"])
def test_a_target_that_is_not_a_regular_file_is_refused_and_left_as_it_was(tmp_path, kind) -> None:
    target = tmp_path / "out.xlsx"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        (tmp_path / "elsewhere").write_text("x")
        os.symlink(tmp_path / "elsewhere", target)
    else:
        target.mkdir()
    before = os.lstat(target).st_mode
    with pytest.raises(InvalidInput, match="is not a regular file"):
        write_bytes(str(target), b"data")
    assert stat.S_IFMT(os.lstat(target).st_mode) == stat.S_IFMT(before)
    expected = ["elsewhere", "out.xlsx"] if kind == "symlink" else ["out.xlsx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected


def test_a_device_node_is_refused_and_stays_a_device(tmp_path) -> None:
    # A node of our own in tmp_path (the null device's numbers), never a system device: without the
    # fix the write would replace whatever device it was aimed at with a regular file.
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    with pytest.raises(InvalidInput, match="is not a regular file"):
        write_bytes(str(node), b"data")
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_a_regular_file_is_replaced_and_a_failure_leaves_nothing_behind(tmp_path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    write_bytes(str(target), b"new")
    assert target.read_bytes() == b"new"
    with pytest.raises(RuntimeError), atomic_path(str(target)) as partial:
        with open(partial, "wb") as f:
            f.write(b"half")
        raise RuntimeError("the writer failed")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_the_temporary_file_has_a_random_name_in_the_targets_folder(tmp_path) -> None:
    seen = []
    for _ in range(2):
        with atomic_path(str(tmp_path / "a.csv")) as partial:
            seen.append(partial)
            assert os.path.dirname(partial) == str(tmp_path)
            assert stat.S_IMODE(os.stat(partial).st_mode) == 0o600
            open(partial, "wb").close()
    assert seen[0] != seen[1] and not seen[0].endswith("a.csv.part")


def test_a_folder_that_does_not_exist_is_one_clear_error(tmp_path) -> None:
    with pytest.raises(InvalidInput, match="cannot write"):
        write_bytes(str(tmp_path / "no" / "such" / "out.csv"), b"x")
