"""Issue 7, section 3, in-process: the rules behind every refused value, with exact rows, lines and sizes.

tests/e2e/test_trust_mistakes.py shows the same mistakes through the command line (exit 2, one
message); these tests pin the rules themselves: which values pass, which do not, and the numbers
the messages give.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from tests.conftest import MODELS
from tui.core.example_input import DTYPES, dtype_name
from tui.core.load.csv_data import read_csv
from tui.core.load.datasets import TrainingData, load_training_data
from tui.core.load.input_specs import DTYPE_NAMES, MAX_INPUT_BYTES, check_input_size, input_bytes, parse_input_spec
from tui.core.load.validate import check_hyperparameters, parse_argument, parse_field
from tui.core.records import NnviewError, TensorSpec
from tui.core.session import summarize
from tui.core.train.loss_fit import TargetAdapter, check_loss, named_loss
from tui.core.train.run import TrainOptions, effective_config
from tui.core.train.trainer import TrainConfig, Trainer

EXAMPLES = {"lr": 0.01, "weight_decay": 0.0001, "epochs": 20, "batch_size": 32, "threads": 1, "seed": 0}
EXAMPLES |= {"depth": 2, "budget_mb": 256, "batch": 4}
KNOWN = ("epochs", "batch_size", "lr", "optimizer", "loss", "weight_decay", "seed", "device", "threads")


def refused(call: Any, *args: Any, **kwargs: Any) -> str:
    """The message and hint of the NnviewError ``call`` raises (kind ``input``)."""
    with pytest.raises(NnviewError) as caught:
        call(*args, **kwargs)
    assert caught.value.record.kind == "input", caught.value.record
    return f"{caught.value.record.message} | {caught.value.record.hint}"


# --- numbers on the command line and in the e form ---------------------------------------------


@pytest.mark.parametrize(
    ("rule", "text", "value"),
    [
        ("lr", "0.01", 0.01),
        ("lr", "1e-3", 0.001),
        ("weight_decay", "0", 0.0),
        ("epochs", "1", 1),
        ("batch_size", " 32 ", 32),
        ("threads", "2", 2),
        ("seed", "0", 0),
        ("depth", "0", 0),
        ("budget_mb", "0", 0.0),
        ("budget_mb", "0.5", 0.5),
        ("batch", "4", 4),
    ],
)
def test_good_values_parse_to_numbers_of_the_right_type(rule: str, text: str, value: float) -> None:
    parsed = parse_argument(rule, text, "--flag")
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        *(("lr", t) for t in ("nan", "inf", "-inf", "0", "-1", "0.0", "fast", "")),
        *(("weight_decay", t) for t in ("-1", "nan", "inf", "-1e-9")),
        *(("epochs", t) for t in ("0", "-1", "2.5", "1e3", "two")),
        *(("batch_size", t) for t in ("0", "-3", "8.0")),
        *(("threads", t) for t in ("0", "-2", "1.5")),
        *(("seed", t) for t in ("-1", "abc", str(2**64))),
        *(("depth", t) for t in ("-1", "x")),
        *(("budget_mb", t) for t in ("-5", "nan", "inf")),
        *(("batch", t) for t in ("0", "-3", "2.5")),
    ],
)
def test_bad_values_are_refused_naming_the_flag_value_and_an_example(rule: str, text: str) -> None:
    message = refused(parse_argument, rule, text, "--flag")
    assert message.startswith(f"--flag {text}: ")
    assert message.endswith(f" | pass e.g. --flag {EXAMPLES[rule]}")


def test_form_fields_follow_the_same_rules_and_name_the_field() -> None:
    assert parse_field("lr", "0.05", "learning rate") == 0.05
    assert refused(parse_field, "lr", "nan", "learning rate") == (
        "learning rate nan: the learning rate must be a finite number above 0, not nan | type e.g. 0.01"
    )
    assert refused(parse_field, "batch_size", "", "batch size").startswith("batch size (empty): the batch size")


# --- hyperparameters in the model file ----------------------------------------------------------


def test_hyperparameters_accept_every_known_key_with_good_values() -> None:
    good = {"epochs": 3, "batch_size": 8, "lr": 0.5, "optimizer": "sgd", "loss": "mse", "weight_decay": 0.0}
    good |= {"seed": 7, "device": "cpu", "threads": None}
    assert check_hyperparameters(good, KNOWN, "m.py") == good
    assert check_hyperparameters({"lr": None, "epochs": 1}, KNOWN, "m.py") == {"lr": None, "epochs": 1}


@pytest.mark.parametrize(
    ("values", "phrase"),
    [
        ({"batch_size": 0}, '"batch_size": 0: the batch size must be a whole number of at least 1'),
        ({"lr": "0.01"}, "not the text '0.01' (drop the quotes)"),
        ({"epochs": 2.5}, "must be a whole number of at least 1, not 2.5"),
        ({"epochs": 3.0}, "not 3.0"),
        ({"epochs": True}, "not True"),
        ({"lr": float("nan")}, "finite number above 0, not nan"),
        ({"lr": -0.1}, "finite number above 0"),
        ({"optimizer": "sgdd"}, "unknown optimizer 'sgdd'; nnview knows sgd, adam, adamw"),
        ({"loss": "l1"}, "unknown loss 'l1'; nnview knows cross_entropy, bce, mse"),
        ({"device": 0}, "the device must be a name such as 'cpu'"),
        ({"threads": 0}, "CPU threads must be a whole number of at least 1"),
        ({"seed": -1}, "the seed must be a whole number of at least 0"),
        ({"learning_rate": 0.1}, "unknown key 'learning_rate'"),
        ({"lr": 0.1, "epoch": 2, "batchsize": 4}, "unknown keys 'epoch', 'batchsize'"),
        ([("epochs", 2)], "is a list; nnview needs a dict"),
    ],
)
def test_bad_hyperparameters_name_the_key_and_value(values: object, phrase: str) -> None:
    message = refused(check_hyperparameters, values, KNOWN, "m.py")
    assert message.startswith("hyperparameters in m.py")
    assert phrase in message


def test_unknown_keys_list_the_known_ones() -> None:
    hint = refused(check_hyperparameters, {"hidden": 3}, KNOWN, "m.py").split(" | ")[1]
    assert (
        hint
        == "use only epochs, batch_size, lr, optimizer, loss, weight_decay, seed, device, threads (check the spelling)"
    )


def test_a_value_the_command_line_overrides_is_not_checked(tmp_path: Path) -> None:
    options = TrainOptions("m.py", config=TrainConfig(batch_size=4), explicit=("batch_size",))
    config = effective_config(options, {"hyperparameters": {"batch_size": 0, "epochs": 2}})
    assert (config.batch_size, config.epochs) == (4, 2)
    with pytest.raises(NnviewError):
        effective_config(TrainOptions("m.py"), {"hyperparameters": {"batch_size": 0}})


def test_a_trainer_built_in_code_checks_its_settings_too() -> None:
    data = load_training_data("xor", None, {})
    message = refused(Trainer, nn.Linear(2, 2), data, TrainConfig(batch_size=0))
    assert message.startswith("the training settings: batch_size = 0: the batch size must be")
    assert "lr = nan" in refused(Trainer, nn.Linear(2, 2), data, TrainConfig(lr=math.nan))


# --- --input shapes and their size --------------------------------------------------------------


def test_every_dtype_name_means_the_same_in_both_tables() -> None:
    assert set(DTYPE_NAMES) == set(DTYPES)
    for name, (canonical, size) in DTYPE_NAMES.items():
        assert dtype_name(DTYPES[name]) == canonical
        assert torch.empty((), dtype=DTYPES[name]).element_size() == size


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("0x5", "has a zero-sized dimension"),
        ("4x0x3", "has a zero-sized dimension"),
        ("4x-5", "has a negative size (-5)"),
        ("-4", "has a negative size (-4)"),
        ("4x5:complex128", "unknown dtype 'complex128'"),
        ("4x5:", "unknown dtype ''"),
        ("4x5:float8", "unknown dtype 'float8'"),
        ("4xq", "cannot read --input '4xq'"),
        ("4 5", "cannot read --input '4 5'"),
        ("", "cannot read --input ''"),
        (f"{2**40}x{2**40}", "more than torch can index"),
    ],
)
def test_bad_input_shapes_say_what_is_wrong(text: str, phrase: str) -> None:
    message = refused(parse_input_spec, text)
    assert phrase in message and "--input 4x5" in message


def test_input_size_is_counted_per_dtype_and_refused_past_4_gib() -> None:
    assert input_bytes([TensorSpec((2, 3), "float64"), TensorSpec((4,), "int8")]) == 2 * 3 * 8 + 4
    check_input_size([TensorSpec((1024**3,), "float32")], "x")  # exactly 4 GiB: allowed
    assert MAX_INPUT_BYTES == 4 * 1024**3
    message = refused(check_input_size, [TensorSpec((1024**3 + 1,), "float32")], "a smaller --input shape")
    assert message.startswith("the input 1073741825:float32 needs 4.0 GiB of memory")
    # 99999999 * 99999 * 4 bytes = 39,999,499,600,004 B = 36.38 TiB
    message = refused(check_input_size, [parse_input_spec("99999999x99999")], "a smaller --input shape")
    assert "needs 36.4 TiB" in message and "use a smaller --input shape, or --meta" in message


def test_an_inferred_input_past_the_limit_names_batch_and_meta_allows_it() -> None:
    # simple.py's input is inferred from fc1 = Linear(5, 10): 10**9 x 5 float32 = 18.6 GiB
    message = refused(summarize, str(MODELS / "simple.py"), batch=10**9)
    assert "needs 18.6 GiB" in message and "use a smaller --batch (it was 1000000000)" in message
    result = summarize(str(MODELS / "simple.py"), batch=10**9, meta=True)
    assert result.inputs[0].shape == (10**9, 5)
    assert "--batch 0" in refused(summarize, str(MODELS / "simple.py"), batch=0)


# --- CSV files ------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_csv_lines_are_the_files_own_with_bom_blank_lines_and_quotes(tmp_path: Path) -> None:
    text = '\ufeffa,b,label\n1,2,0\n\n"3",4,1\n5,6,2\n'
    table = read_csv(write(tmp_path, text), None)
    assert (table.x, table.y.tolist(), table.lines, table.column) == (
        [[1, 2], [3, 4], [5, 6]],
        [0, 1, 2],
        [2, 4, 5],
        "label",
    )
    assert table.y.dtype == torch.int64
    assert read_csv(write(tmp_path, "a,y\n1,0.5\n2,1.5\n"), None).y.dtype == torch.float32


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("", "is empty; training needs a header line and at least two rows"),
        ("a,b,label\n", "has 0 data rows"),
        ("a,b,label\n1,2,0\n", "has 1 data row;"),
        ("a,b,label\n1,2,0\n3,4\n5,6,1\n", "line 3 has 2 cells but the header has 3 columns (a, b, label)"),
        ("a,b,label\n1,2,0\n\n3,4,1,7\n5,6,1\n", "line 4 has 4 cells"),
        ("a,b,label\n1,2,0\n3,four,1\n5,6,1\n", "line 3, column 'b': 'four' is not a number"),
        ("a,b,label\n1,2,0\n3, ,1\n5,6,1\n", "line 3, column 'b': empty is not a number"),
        ("a,b,label\n1,nan,0\n3,4,1\n5,-inf,1\n", "NaN or infinite feature values on lines 2, 4"),
        ("a,b,label\n1,2,0.5\n3,4,inf\n5,6,1\n", "NaN or infinite targets (column 'label') on line 3"),
    ],
)
def test_csv_mistakes_name_the_line_and_column(tmp_path: Path, text: str, phrase: str) -> None:
    assert phrase in refused(read_csv, write(tmp_path, text), None)


def test_a_csv_that_is_not_utf8_names_the_byte_and_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,label\n1,2,0\n3,4,1\n5,6,caf\u00e9\n".encode("latin-1"))
    message = refused(read_csv, path, None)
    assert "is not UTF-8 text: byte 0xe9 on line 4 cannot be decoded" in message
    assert "iconv -f latin1 -t utf-8 data.csv" in message


def test_a_missing_target_column_lists_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "x1,x2,y\n1,2,0\n3,4,1\n5,6,1\n")
    assert (
        refused(read_csv, path, "label")
        == f"{path} has no column 'label' (columns: x1, x2, y) | pick one with --target"
    )


# --- what dataset() returns -------------------------------------------------------------------------


def from_dataset(*values: Any) -> TrainingData:
    return load_training_data(None, None, {"dataset": lambda: values[0] if len(values) == 1 else values})


X = torch.zeros(6, 2)
Y = torch.tensor([0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize(
    ("values", "phrase"),
    [
        ((["a", "b"], ["x", "y"], ["a"], ["x"]), "x_train is a list of str, not numbers"),
        ((X, ["cat"] * 6, X, Y), "y_train is a list of str, not numbers"),
        (("data.csv",), "dataset() returned a str; nnview needs 4 values or 2 Datasets"),
        (({"x": X},), "dataset() returned a dict"),
        ((X, Y, X), "dataset() returned 3 values; nnview needs 4 (or 2 Datasets)"),
        ((X, Y), "dataset() returned 2 arrays (x and y?)"),
        ((X, Y[:5], X, Y), "6 training inputs but 5 labels (validation: 6 and 6)"),
        ((X, Y, X[:4], Y), "validation: 4 and 6"),
        ((X, Y, torch.zeros(6, 3), Y), "training samples have shape (2,) but validation samples (3,)"),
        ((X.to(torch.complex64), Y, X, Y), "x_train holds complex64 values"),
        ((X, Y, X[:0], Y[:0]), "x_val is empty"),
        ((torch.tensor(1.0), Y, X, Y), "x_train is a single number"),
    ],
)
def test_dataset_mistakes_name_the_value(values: tuple[Any, ...], phrase: str) -> None:
    assert phrase in refused(from_dataset, *values)


def test_nan_and_inf_are_refused_naming_the_split_and_rows() -> None:
    bad = X.clone()
    bad[1, 0], bad[4, 1] = math.nan, math.inf
    assert "x_train has NaN or infinite values at rows 1, 4" in refused(from_dataset, bad, Y, X, Y)
    targets = torch.arange(6.0)
    targets[5] = -math.inf
    assert "y_val has NaN or infinite values at row 5" in refused(from_dataset, X, torch.arange(6.0), X, targets)
    many = torch.full((8, 2), math.nan)
    assert "rows 0, 1, 2, 3, 4 (and 3 more)" in refused(from_dataset, X, Y, many, torch.zeros(8).long())


def test_datasets_whose_items_are_not_pairs_are_refused() -> None:
    pairs = torch.utils.data.TensorDataset(X, Y)
    data = from_dataset(pairs, pairs)
    assert (len(data.x_train), data.classes) == (6, 3)
    singles = torch.utils.data.TensorDataset(X)
    assert "items are not (input, target) pairs" in refused(from_dataset, singles, pairs)


# --- the loss against the targets -----------------------------------------------------------------


def data_of(
    y: torch.Tensor, classes: int | None, lines: tuple[tuple[int, ...], tuple[int, ...]] | None = None
) -> TrainingData:
    x = torch.zeros(len(y), 2)
    return TrainingData(x, y, x, y, classes, "d", lines)


def test_mse_and_bce_take_one_output_per_sample_without_broadcasting() -> None:
    output = torch.tensor([[1.0], [2.0], [4.0]])
    target = torch.tensor([1.0, 0.0, 2.0])
    # (N, 1) against (N,) would broadcast to 3x3 = 9 terms; adapted: (0 + 4 + 4) / 3
    assert named_loss("mse")(output, target).item() == pytest.approx(8 / 3)
    labels = torch.tensor([1, 0, 1])  # integer 0/1 labels train a single logit under --loss bce
    expected = nn.BCEWithLogitsLoss()(output, labels.float().unsqueeze(-1))
    assert named_loss("bce")(output, labels).item() == pytest.approx(expected.item())
    assert isinstance(named_loss("mse"), TargetAdapter) and isinstance(named_loss("cross_entropy"), nn.CrossEntropyLoss)


def test_labels_out_of_range_are_named_by_row_or_by_file_line() -> None:
    y = torch.tensor([0, -1, 2, 3])
    message = refused(
        check_loss, named_loss("cross_entropy"), "cross_entropy", True, torch.zeros(4, 3), y, data_of(y, 4)
    )
    assert "needs class ids 0..2 (the model outputs 3 values per sample)" in message
    assert "but d has -1, 3 at y_train rows 1, 3; y_val rows 1, 3" in message
    assert "for regression pass --loss mse" in message
    on_lines = data_of(y, 4, ((2, 3, 5, 9), (4, 6, 7, 8)))
    message = refused(check_loss, named_loss("cross_entropy"), "cross_entropy", False, torch.zeros(4, 3), y, on_lines)
    assert "at lines 3, 6, 8, 9" in message and "regression" not in message


def test_a_loss_the_file_brings_is_run_once_and_its_failure_explained() -> None:
    y = torch.tensor([0, 1, 1, 0])
    message = refused(check_loss, nn.BCELoss(), "BCELoss", False, torch.rand(4, 1), y, data_of(y, 2))
    assert "BCELoss is the model file's loss" in message
    assert "make the last layer output 2 values and use --loss cross_entropy" in message
    assert "or keep one output and use --loss bce with 0/1 targets" in message

    def crashes(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise KeyError("logits")

    message = refused(check_loss, crashes, "loss() in the file", False, torch.zeros(4, 2), y, data_of(y, 2))
    assert "the loss (loss() in the file) cannot take the model's output of shape (N, 2)" in message
    assert "KeyError: 'logits'" in message

    def per_sample(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (output - output).sum(dim=1)

    message = refused(check_loss, per_sample, "loss() in the file", False, torch.zeros(4, 2), y, data_of(y, 2))
    assert "returned (4,), not a single number" in message


def test_a_single_logit_classifier_counts_accuracy_by_threshold() -> None:
    data = load_training_data("xor", None, {})  # labels 0, 1, 1, 0
    trainer = Trainer(nn.Linear(2, 1), data, TrainConfig(loss="bce"))
    logits = torch.tensor([[-2.0], [3.0], [-1.0], [0.5]])  # predicts 0, 1, 0, 1: right on rows 0 and 1
    assert trainer._accuracy_counts(logits, data.y_train) == (2, 4)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["m.py", "--lr", "-inf"], "--lr -inf: the learning rate must be a finite number above 0, not -inf"),
        (
            ["m.py", "--weight-decay", "-1e-3"],
            "--weight-decay -1e-3: the weight decay must be a finite number of at least 0",
        ),
        (["m.py", "--epochs", "-2"], "--epochs -2:"),
    ],
)
def test_a_negative_value_reaches_its_rule_instead_of_reading_as_an_option(argv: list[str], message: str) -> None:
    from tui.commands.arguments import parse
    from tui.commands.train import train_parser

    with pytest.raises(NnviewError) as caught:
        parse(train_parser(), argv)
    assert caught.value.record.message.startswith(message)


def test_an_option_after_a_valueless_flag_is_still_an_option() -> None:
    from tui.commands.arguments import parse
    from tui.commands.train import train_parser

    with pytest.raises(NnviewError) as caught:
        parse(train_parser(), ["m.py", "--lr", "--epochs", "2"])
    assert caught.value.record.message == "argument --lr: expected one argument"
