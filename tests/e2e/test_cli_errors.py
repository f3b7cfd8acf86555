"""`nnview summary` on broken model files, through the real console entry point in a subprocess.

A user error exits 2 with the kind and the fix on stderr, never a Python traceback (unless
--debug), and with --json stdout is exactly one parseable ``{"error": {...}}`` object.

Every run costs a torch import (~2 s), so all of them start at once in one module fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROKEN = "tests/core/broken"

RUNS: dict[str, list[str]] = {
    "deep_sequential": [f"{BROKEN}/deep_sequential.py", "--json"],
    "deep_sequential_debug": [f"{BROKEN}/deep_sequential.py", "--debug"],
    "syntax_error": [f"{BROKEN}/syntax_error.py", "--json"],
    "two_models": [f"{BROKEN}/two_models.py", "--json"],
    "missing_name": [f"{BROKEN}/two_models.py:Decodr", "--json"],
    "embedding_floats": [f"{BROKEN}/embedding_floats.py", "--json"],
    "forward_valueerror": [f"{BROKEN}/forward_valueerror.py", "--json"],
    "sys_exit": [f"{BROKEN}/sys_exit.py"],
    "noisy_chdir": [f"{BROKEN}/noisy_chdir.py", "--json"],
    "missing_file": ["missing.py"],
    "bad_input": ["models/simple.py", "--input", "4xq", "--json"],
    "prints_in_forward": [f"{BROKEN}/prints_in_forward.py", "--json"],
    "exit_in_forward": [f"{BROKEN}/exit_in_forward.py", "--json"],
}


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tui", "summary", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        futures = {name: pool.submit(_run, args) for name, args in RUNS.items()}
        return {name: future.result() for name, future in futures.items()}


def _flat(text: str) -> str:
    """Whitespace collapsed, so a message wrapped by the terminal renderer still matches."""
    return " ".join(text.split())


def _error_json(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    data = json.loads(proc.stdout)
    assert list(data) == ["error"]
    error: dict[str, object] = data["error"]
    assert set(error) == {"kind", "layer", "type", "inputs", "expected", "hint", "message", "location", "candidates"}
    return error


def _user_error(proc: subprocess.CompletedProcess[str], kind: str, *words: str) -> str:
    """Exit 2, `error [kind]` and every word of the fix on stderr, no traceback anywhere; the flat stderr."""
    err = _flat(proc.stderr)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert f"error [{kind}]" in err, err
    for word in words:
        assert word in err, (word, err)
    assert "Traceback" not in proc.stdout + proc.stderr
    return err


def test_deep_shape_mismatch_names_encoder_2_on_stderr_and_in_json(runs: dict) -> None:
    proc = runs["deep_sequential"]
    err = _user_error(
        proc,
        "shape_mismatch",
        "in encoder.2 (Linear)",
        "got: (4, 16) float32",
        "expected: (*, 12)",
        f"at: {BROKEN}/deep_sequential.py:21",
        "traced before the failure: encoder.0, encoder.1",
        "fix: encoder.2 = nn.Linear(12, 4) receives 16 features from encoder.0: change in_features to 16",
    )
    assert err.startswith("error [shape_mismatch]")
    assert _error_json(proc) == {
        "kind": "shape_mismatch",
        "layer": "encoder.2",
        "type": "Linear",
        "inputs": [[4, 16]],
        "expected": "(*, 12)",
        "hint": "encoder.2 = nn.Linear(12, 4) receives 16 features from encoder.0: change in_features to 16",
        "message": "encoder.2 = nn.Linear(12, 4) got input (4, 16): 16 features where it needs 12",
        "location": f"{BROKEN}/deep_sequential.py:21",
        "candidates": [],
    }


def test_debug_flag_shows_the_traceback_and_still_exits_2(runs: dict) -> None:
    proc = runs["deep_sequential_debug"]
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" in proc.stderr
    assert "RuntimeError: mat1 and mat2 shapes cannot be multiplied (4x16 and 12x4)" in proc.stderr
    assert "change in_features to 16" in _flat(proc.stderr)
    assert proc.stdout == ""


def test_syntax_error_json_gives_line_and_column(runs: dict) -> None:
    proc = runs["syntax_error"]
    _user_error(proc, "syntax", "fix: fix line 9 of syntax_error.py")
    error = _error_json(proc)
    assert (error["kind"], error["location"], error["layer"]) == ("syntax", f"{BROKEN}/syntax_error.py:9:21", None)


def test_ambiguous_and_missing_name_list_the_candidates(runs: dict) -> None:
    _user_error(runs["two_models"], "ambiguous", "Encoder, Decoder", "two_models.py:Decoder")
    assert _error_json(runs["two_models"])["candidates"] == ["Encoder", "Decoder"]
    _user_error(runs["missing_name"], "no_model", "has no attribute 'Decodr'", "pick one of: Encoder, Decoder")
    error = _error_json(runs["missing_name"])
    assert (error["kind"], error["candidates"]) == ("no_model", ["Encoder", "Decoder"])


def test_embedding_fed_floats_json_is_a_dtype_error_on_embed(runs: dict) -> None:
    proc = runs["embedding_floats"]
    _user_error(proc, "dtype", "in embed (Embedding)", "--input 2x7:long")
    error = _error_json(proc)
    assert (error["kind"], error["layer"], error["type"], error["inputs"], error["expected"]) == (
        "dtype",
        "embed",
        "Embedding",
        [[2, 7]],
        "integer ids (torch.long)",
    )


def test_custom_module_value_error_json_names_blocks_1_gate(runs: dict) -> None:
    proc = runs["forward_valueerror"]
    _user_error(proc, "forward", "in blocks.1.gate (Gate)", "ValueError: custom")
    error = _error_json(proc)
    assert (error["kind"], error["layer"], error["type"], error["location"]) == (
        "forward",
        "blocks.1.gate",
        "Gate",
        f"{BROKEN}/forward_valueerror.py:13",
    )


def test_sys_exit_at_import_exits_2_not_3_and_shows_what_the_file_printed(runs: dict) -> None:
    _user_error(
        runs["sys_exit"],
        "load",
        "called sys.exit(3)",
        f"at: {BROKEN}/sys_exit.py:18",
        "if __name__ == '__main__':",
        "the file printed: parsing arguments...",
    )


def test_noisy_file_json_stdout_is_only_the_error_object(runs: dict) -> None:
    proc = runs["noisy_chdir"]
    _user_error(proc, "shape_mismatch", "from fc1: change in_features to 16")
    assert "noisy line" not in proc.stdout
    assert _error_json(proc)["layer"] == "fc2"


def test_missing_file_and_bad_input_spec_are_user_errors(runs: dict) -> None:
    _user_error(runs["missing_file"], "load", "model file missing.py does not exist", "check the path")
    assert runs["missing_file"].stdout == ""
    proc = runs["bad_input"]
    _user_error(proc, "input", "cannot read --input '4xq'", "--input 4x5 or --input 2x12:long")
    error = _error_json(proc)
    assert (error["kind"], error["layer"], error["message"]) == ("input", None, "cannot read --input '4xq'")


def test_print_inside_forward_does_not_corrupt_json_stdout(runs: dict) -> None:
    proc = runs["prints_in_forward"]
    _user_error(proc, "shape_mismatch", "in out (Linear)")
    assert _error_json(proc)["layer"] == "out"


def test_sys_exit_inside_forward_is_a_user_error_with_json(runs: dict) -> None:
    proc = runs["exit_in_forward"]
    _user_error(proc, "forward", "sys.exit(3)")
    error = _error_json(proc)
    assert (error["kind"], error["location"]) == ("forward", f"{BROKEN}/exit_in_forward.py:21")


def test_help_names_the_other_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.commands.main import main

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "`nnview summary FILE` prints the layer table" in text and "`nnview train FILE` trains" in text
    assert "--weights CKPT" in text
