"""Issue 7, section 3: every user mistake is one clear message, exit 2, no traceback, no file changed.

Each case runs the real console entry point (``python -m tui ...``) in a subprocess; all of them
start at once in one module fixture (:func:`tests.trust.run_all`). Argument mistakes are answered
before torch is imported, so most cases cost a tenth of a second; the data, hyperparameter and loss
cases load a model. Hostile files live in tests/corpus/mistakes/ (the non-UTF-8 CSV is written here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.trust import ROOT, assert_user_error, files_unchanged, run_all

CORPUS = "tests/corpus/mistakes"
SIMPLE = "models/simple.py"
THREE = f"{CORPUS}/ds_float_labels.py"  # Linear(2, 8) -> ReLU -> Linear(8, 3): 2 features, 3 outputs
LATIN1 = "latin1.csv"  # written by the fixture: "é" in Latin-1 is the byte 0xe9 on line 3

BATCH = ("whole number of at least 1", "pass e.g. --batch 4")
LR = ("the learning rate must be a finite number above 0", "pass e.g. --lr 0.01")
THREADS = ("the number of CPU threads must be a whole number of at least 1", "pass e.g. --threads 1")
DECAY = ("the weight decay must be a finite number of at least 0", "pass e.g. --weight-decay 0.0001")
BUDGET = ("the memory budget in MiB must be a finite number of at least 0", "pass e.g. --budget-mb 256")
# 99999999 x 99999 float32 values = 39,999,499,600,004 bytes = 36.4 TiB (/ 1024**4)
HUGE = ("the input 99999999x99999:float32 needs 36.4 TiB of memory", "at most 4.0 GiB", "or --meta")
HP = "hyperparameters in tests/corpus/mistakes/"

# name -> (arguments, phrases the one message must hold)
CASES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    # --- arguments: nnview summary -------------------------------------------------------------
    "summary_batch_0": (["summary", SIMPLE, "--batch", "0"], ("--batch 0:", *BATCH)),
    "summary_batch_negative": (["summary", SIMPLE, "--batch", "-3"], ("--batch -3:", *BATCH)),
    "summary_batch_word": (["summary", SIMPLE, "--batch", "four"], ("--batch four:", *BATCH)),
    "summary_batch_fraction": (["summary", SIMPLE, "--batch", "2.5"], ("--batch 2.5:", *BATCH)),
    "summary_batch_missing": (["summary", SIMPLE, "--batch"], ("argument --batch: expected one argument",)),
    "summary_depth_negative": (["summary", SIMPLE, "--depth", "-1"], ("--depth -1:", "at least 0", "--depth 2")),
    "summary_input_huge": (["summary", SIMPLE, "--input", "99999999x99999"], HUGE),
    "summary_input_zero": (["summary", SIMPLE, "--input", "0x5"], ("'0x5' has a zero-sized dimension", "4x5")),
    "summary_input_negative": (["summary", SIMPLE, "--input", "4x-5"], ("'4x-5' has a negative size (-5)",)),
    "summary_input_complex": (
        ["summary", SIMPLE, "--input", "4x5:complex128"],
        ("unknown dtype 'complex128'", "dtypes: float, float32"),
    ),
    "summary_input_float8": (["summary", SIMPLE, "--input", "4x5:float8"], ("unknown dtype 'float8'",)),
    "summary_input_word": (["summary", SIMPLE, "--input", "4xq"], ("cannot read --input '4xq'", "--input 4x5")),
    "summary_unknown_flag": (
        ["summary", SIMPLE, "--bacth", "2"],
        ("unrecognized arguments: --bacth 2", "nnview summary --help"),
    ),
    # --- arguments: nnview train ---------------------------------------------------------------
    "train_lr_nan": (["train", SIMPLE, "--lr", "nan"], ("--lr nan:", *LR)),
    "train_lr_inf": (["train", SIMPLE, "--lr", "inf"], ("--lr inf:", *LR)),
    "train_lr_zero": (["train", SIMPLE, "--lr", "0"], ("--lr 0:", *LR)),
    "train_lr_negative": (["train", SIMPLE, "--lr", "-1"], ("--lr -1:", *LR)),
    "train_lr_word": (["train", SIMPLE, "--lr", "fast"], ("--lr fast:", *LR)),
    "train_threads_0": (["train", SIMPLE, "--threads", "0"], ("--threads 0:", *THREADS)),
    "train_threads_negative": (["train", SIMPLE, "--threads", "-2"], ("--threads -2:", *THREADS)),
    "train_threads_fraction": (["train", SIMPLE, "--threads", "1.5"], ("--threads 1.5:", *THREADS)),
    "train_weight_decay_negative": (["train", SIMPLE, "--weight-decay", "-1"], ("--weight-decay -1:", *DECAY)),
    "train_weight_decay_nan": (["train", SIMPLE, "--weight-decay", "nan"], ("--weight-decay nan:", *DECAY)),
    "train_epochs_0": (["train", SIMPLE, "--epochs", "0"], ("--epochs 0:", "at least 1", "--epochs 20")),
    "train_epochs_fraction": (["train", SIMPLE, "--epochs", "2.5"], ("--epochs 2.5:", "whole number")),
    "train_batch_size_0": (["train", SIMPLE, "--batch-size", "0"], ("--batch-size 0:", "--batch-size 32")),
    "train_batch_size_negative": (["train", SIMPLE, "--batch-size", "-3"], ("--batch-size -3:", "at least 1")),
    "train_seed_word": (["train", SIMPLE, "--seed", "abc"], ("--seed abc:", "--seed 0")),
    "train_optimizer_typo": (["train", SIMPLE, "--optimizer", "sgdd"], ("invalid choice: 'sgdd'", "'adam'")),
    "train_loss_typo": (["train", SIMPLE, "--loss", "ce"], ("invalid choice: 'ce'", "'cross_entropy'")),
    "train_target_without_csv": (["train", SIMPLE, "--target", "label"], ("--target label", "--data FILE.csv")),
    "train_data_unknown": (["train", SIMPLE, "--data", "mnist"], ("--data 'mnist'", "moons", "digits")),
    # --- arguments: the explorer (refused before the screen opens) ------------------------------
    "explorer_batch_0": ([SIMPLE, "--batch", "0"], ("--batch 0:", *BATCH)),
    "explorer_batch_negative": ([SIMPLE, "--batch", "-3"], ("--batch -3:", *BATCH)),
    "explorer_budget_negative": ([SIMPLE, "--budget-mb", "-5"], ("--budget-mb -5:", *BUDGET)),
    "explorer_budget_nan": ([SIMPLE, "--budget-mb", "nan"], ("--budget-mb nan:", *BUDGET)),
    "explorer_budget_inf": ([SIMPLE, "--budget-mb", "inf"], ("--budget-mb inf:", *BUDGET)),
    "explorer_input_huge": ([SIMPLE, "--input", "99999999x99999"], HUGE),
    "explorer_input_zero": ([SIMPLE, "--input", "0x5"], ("zero-sized dimension",)),
    "explorer_data_unknown": ([SIMPLE, "--data", "mnist"], ("--data 'mnist'",)),
    "explorer_unknown_flag": ([SIMPLE, "--lr", "0.1"], ("unrecognized arguments: --lr 0.1", "nnview --help")),
    # --- a model file's hyperparameters ----------------------------------------------------------
    "hp_batch_size_0": (
        ["train", f"{CORPUS}/hp_batch_size_0.py"],
        (f'{HP}hp_batch_size_0.py: "batch_size": 0:', "at least 1", 'write e.g. "batch_size": 32'),
    ),
    "hp_lr_string": (
        ["train", f"{CORPUS}/hp_lr_string.py"],
        ("\"lr\": '0.01'", "not the text '0.01' (drop the quotes)", '"lr": 0.01'),
    ),
    "hp_epochs_fraction": (["train", f"{CORPUS}/hp_epochs_fraction.py"], ('"epochs": 2.5', "whole number")),
    "hp_epochs_bool": (["train", f"{CORPUS}/hp_epochs_bool.py"], ('"epochs": True', "whole number")),
    "hp_unknown_key": (
        ["train", f"{CORPUS}/hp_unknown_key.py"],
        ("unknown key 'learning_rate'", "use only epochs, batch_size, lr, optimizer, loss, weight_decay, seed"),
    ),
    "hp_optimizer_typo": (["train", f"{CORPUS}/hp_optimizer_typo.py"], ("'sgdd'", "nnview knows sgd, adam, adamw")),
    "hp_loss_typo": (["train", f"{CORPUS}/hp_loss_typo.py"], ("'crossentropy'", "cross_entropy, bce, mse")),
    "hp_lr_nan": (["train", f"{CORPUS}/hp_lr_nan.py"], ('"lr": nan', "finite number above 0")),
    "hp_threads_0": (["train", f"{CORPUS}/hp_threads_0.py"], ('"threads": 0', "at least 1")),
    "hp_weight_decay_negative": (["train", f"{CORPUS}/hp_weight_decay_negative.py"], ('"weight_decay": -1',)),
    "hp_not_a_dict": (["train", f"{CORPUS}/hp_not_a_dict.py"], ("is a list; nnview needs a dict",)),
    # --- data: CSV files ---------------------------------------------------------------------------
    "csv_short_row": (
        ["train", THREE, "--data", f"{CORPUS}/short_row.csv"],
        ("short_row.csv line 4 has 1 cell but the header has 3 columns (a, b, label)", "one value per column"),
    ),
    "csv_long_row": (["train", THREE, "--data", f"{CORPUS}/long_row.csv"], ("line 3 has 4 cells",)),
    "csv_word_cell": (
        ["train", THREE, "--data", f"{CORPUS}/word_cell.csv"],
        ("line 3, column 'b': 'x' is not a number", "only the target column 'label' may hold text"),
    ),
    "csv_empty_cell": (["train", THREE, "--data", f"{CORPUS}/empty_cell.csv"], ("line 3, column 'b': empty",)),
    "csv_empty": (["train", THREE, "--data", f"{CORPUS}/empty.csv"], ("empty.csv is empty", "a header line")),
    "csv_header_only": (["train", THREE, "--data", f"{CORPUS}/header_only.csv"], ("has 0 data rows",)),
    "csv_not_utf8": (
        ["train", THREE, "--data", "{tmp}/" + LATIN1],
        ("is not UTF-8 text: byte 0xe9 on line 3", "iconv -f latin1 -t utf-8"),
    ),
    "csv_missing_target": (
        ["train", THREE, "--data", f"{CORPUS}/good.csv", "--target", "price"],
        ("has no column 'price' (columns: a, b, label)", "--target"),
    ),
    "csv_negative_labels": (
        ["train", THREE, "--data", f"{CORPUS}/negative_labels.csv"],
        ("cross-entropy needs class ids 0..2", "has -1 at lines 3, 6", "number the classes from 0"),
    ),
    "csv_nan_features": (
        ["train", THREE, "--data", f"{CORPUS}/nan_features.csv"],
        ("NaN or infinite feature values on lines 3, 5", "fill in or drop"),
    ),
    "csv_nan_targets": (
        ["train", THREE, "--data", f"{CORPUS}/nan_targets.csv"],
        ("NaN or infinite targets (column 'label') on line 3",),
    ),
    # --- data: the file's dataset() -------------------------------------------------------------
    "ds_strings": (["train", f"{CORPUS}/ds_strings.py"], ("x_train is a list of str, not numbers", "class ids")),
    "ds_numpy_strings": (["train", f"{CORPUS}/ds_numpy_strings.py"], ("x_train is a ndarray", "not numbers")),
    "ds_string": (["train", f"{CORPUS}/ds_string.py"], ("dataset() returned a str", "(x_train, y_train")),
    "ds_three_items": (["train", f"{CORPUS}/ds_three_items.py"], ("dataset() returned 3 values; nnview needs 4",)),
    "ds_five_items": (["train", f"{CORPUS}/ds_five_items.py"], ("dataset() returned 5 values",)),
    "ds_two_tensors": (
        ["train", f"{CORPUS}/ds_two_tensors.py"],
        ("returned 2 arrays", "return x[:n], y[:n], x[n:], y[n:]"),
    ),
    "ds_raises": (
        ["train", f"{CORPUS}/ds_raises.py"],
        ("FileNotFoundError: data/train.npy while calling dataset()", "ds_raises.py:"),
    ),
    "ds_lengths": (["train", f"{CORPUS}/ds_lengths.py"], ("8 training inputs but 7 labels", "exactly one target")),
    "ds_float_labels": (
        ["train", f"{CORPUS}/ds_float_labels.py"],
        (
            "MSE was inferred because the targets are float",
            "the model outputs shape (N, 3)",
            "float32 targets of shape (N,)",
            "integer labels 0..2 (e.g. y.long()) and pass --loss cross_entropy",
        ),
    ),
    "ds_negative_labels": (
        ["train", f"{CORPUS}/ds_negative_labels.py"],
        ("cross-entropy needs class ids 0..2", "has -1 at y_train rows 2, 6"),
    ),
    "ds_nan_features": (
        ["train", f"{CORPUS}/ds_nan_features.py"],
        ("x_train has NaN or infinite values at rows 3, 6",),
    ),
    "ds_nan_targets": (["train", f"{CORPUS}/ds_nan_targets.py"], ("y_val has NaN or infinite values at row 5",)),
    "ds_complex": (["train", f"{CORPUS}/ds_complex.py"], ("x_train holds complex64 values", "real numbers")),
    "ds_empty_val": (["train", f"{CORPUS}/ds_empty_val.py"], ("x_val is empty",)),
    # --- the loss against the targets and the model's output ----------------------------------
    "loss_xor_on_moons": (
        ["train", "models/xor.py", "--data", "moons"],
        (
            "BCELoss is the model file's loss",
            "the model outputs shape (N, 1) and moons has int64 targets of shape (N,) (class ids 0..1)",
            "make the last layer output 2 values and use --loss cross_entropy",
            "or keep one output and use --loss bce with 0/1 targets",
        ),
    ),
    "loss_bce_three_classes": (
        ["train", THREE, "--data", "blobs", "--loss", "bce"],
        ("--loss bce needs 0/1 targets, but blobs has 3 classes", "--loss cross_entropy"),
    ),
    "loss_mse_on_class_ids": (
        ["train", THREE, "--data", "blobs", "--loss", "mse"],
        ("MSE was chosen (--loss mse)", "outputs shape (N, 3)", "(class ids 0..2)", "use --loss cross_entropy"),
    ),
}

# The same inputs that are refused above, where they are fine: nothing is refused wholesale.
ACCEPTED: dict[str, list[str]] = {
    # 999999999 x 5 float32 = 18.6 GiB: refused for real, but --meta allocates nothing
    "summary_huge_input_on_meta": ["summary", SIMPLE, "--input", "999999999x5", "--meta", "--json"],
    "hp_bad_value_overridden": ["train", f"{CORPUS}/hp_batch_size_0.py", "--batch-size", "4", "--epochs", "1"],
    "xor_on_moons_with_bce": ["train", "models/xor.py", "--data", "moons", "--loss", "bce", "--epochs", "1"],
    "csv_text_free_good": ["train", THREE, "--data", f"{CORPUS}/good.csv", "--epochs", "1"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    tmp = tmp_path_factory.mktemp("mistakes")
    (tmp / LATIN1).write_bytes("a,b,label\n1,2,0\n3,caf\u00e9,1\n6,7,2\n".encode("latin-1"))
    cases = {name: [arg.replace("{tmp}", str(tmp)) for arg in args] for name, (args, _) in CASES.items()}
    cases |= ACCEPTED
    with files_unchanged(ROOT / CORPUS), files_unchanged(ROOT / "models"), files_unchanged(tmp):
        return run_all(cases, timeout=90)


@pytest.mark.parametrize("name", list(CASES))
def test_mistake_gets_one_message_naming_it_and_the_fix(
    name: str, runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    proc = runs[name]
    message = assert_user_error(proc, *CASES[name][1])
    assert message.count("error [") == 1, message  # one message, not a cascade
    assert "fix:" in message, message


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_the_same_values_where_they_are_fine_still_work(
    name: str, runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    proc = runs[name]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_meta_summary_of_a_huge_input_reports_its_shape(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = json.loads(runs["summary_huge_input_on_meta"].stdout)
    assert result["inputs"] == [{"shape": [999999999, 5], "dtype": "float32"}]
    assert result["layers"][-1]["outputs"] == [[999999999, 3]]  # fc3 = Linear(6, 3)


def test_argument_mistakes_with_json_print_one_error_object(tmp_path: Path) -> None:
    done = run_all(
        {
            "summary": ["summary", SIMPLE, "--batch", "0", "--json"],
            "train": ["train", SIMPLE, "--lr", "nan", "--json"],
            "flag": ["summary", SIMPLE, "--json", "--bogus"],
        },
        cwd=tmp_path,
    )
    for name, message in {"summary": "--batch 0:", "train": "--lr nan:", "flag": "--bogus"}.items():
        proc = done[name]
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        error = json.loads(proc.stdout)["error"]
        assert error["kind"] == "input" and message in error["message"], error
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


def _read_first_then_close(args: list[str], first: int | None) -> tuple[int, bytes, str]:
    """Like ``nnview ARGS | head -1`` (or ``| head -c N``): read a little, close the pipe, wait."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    got = proc.stdout.readline() if first is None else proc.stdout.read(first)
    proc.stdout.close()
    try:
        errors = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    finally:
        proc.kill()
    return code, got, errors


def test_train_json_into_head_stops_quietly() -> None:
    # 300 full-batch epochs of xor: far more JSON lines than a pipe buffer holds (64 KiB)
    code, first, errors = _read_first_then_close(["train", "models/xor.py", "--json"], None)
    assert json.loads(first)["event"] == "step"
    assert code == 141, errors  # 128 + SIGPIPE, as a shell reports `yes | head -1`
    assert "Traceback" not in errors and "Exception ignored" not in errors and "BrokenPipe" not in errors, errors


def test_summary_json_into_head_c_stops_quietly() -> None:
    # 1,500 layers: about 700 KB of JSON, written at once, so the write meets the closed pipe
    code, first, errors = _read_first_then_close(["summary", f"{CORPUS}/many_layers.py", "--json"], 10)
    assert first == b'{"model": '
    assert (code, errors) == (141, "")


def test_summary_table_into_head_stops_quietly() -> None:
    # about 98 KB of table; rich answers a broken pipe itself (stdout to /dev/null, exit 1), and
    # whether the pipe is already closed when it writes depends on the scheduler: 0 or 1, never a word
    code, first, errors = _read_first_then_close(["summary", f"{CORPUS}/many_layers.py"], None)
    assert first.decode().startswith("Sequential  (tests/corpus/mistakes/many_layers.py)")
    assert code in (0, 1) and errors == "", (code, errors)
