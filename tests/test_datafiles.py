"""Pattern files: :mod:`neurosim.datafiles` reads CSV tables and FANN training files into :class:`neurosim.Patterns` and writes FANN files atomically. The tests load the shipped Iris table (``scenarios/data/iris.csv``: 150 rows, 50 per species, exact first row and column means, one-hot targets in sorted species order), choose columns by name and by index, one-hot encode numeric class labels in numeric order, read the shipped XOR file in FANN's line layout and with its numbers wrapped arbitrarily over lines, pick the reader by extension or format name, and write FANN files that read back bit for bit. Every refusal -- missing file (with the closest file name), directory, empty file, ragged rows, non-numbers with their line and column, unknown or repeated columns, wrong FANN counts, unknown formats and options -- is checked for ``DataError`` and the words of its message, and so is what a message may quote of a file (any file, since a scenario may name it): the offending token only, shortened to 40 characters, and for an unknown column or class the one closest name and how many there are, never the file's list; an interrupted write is checked to leave the old file untouched and no temporary file behind.
"""

from __future__ import annotations

import doctest
import os
import stat
from pathlib import Path

import numpy as np
import pytest

import neurosim
import neurosim.datafiles
from neurosim import DataError, Patterns
from neurosim.datafiles import FORMATS, read_csv, read_fann, read_patterns, write_fann

ROOT = Path(__file__).resolve().parents[1]
IRIS = ROOT / "scenarios" / "data" / "iris.csv"
FILES = Path(__file__).resolve().parent / "data" / "files"
XOR = FILES / "xor.data"
XOR_WRAPPED = FILES / "xor_wrapped.data"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
SPECIES = ["setosa", "versicolor", "virginica"]


def refused(fragments: list[str], func, *args, **kwargs) -> DataError:
    """Call ``func``; it must raise DataError whose message contains every fragment."""
    with pytest.raises(Exception) as info:
        func(*args, **kwargs)
    err = info.value
    assert isinstance(err, DataError), f"expected DataError, got {type(err).__name__}: {err}"
    assert isinstance(err, neurosim.NeurosimError)
    missing = [f for f in fragments if f not in str(err)]
    assert not missing, f"message {str(err)!r} does not contain {missing}"
    return err


def write(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``folder/name`` exactly (no newline translation) and return the path."""
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


# --- Iris -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris() -> Patterns:
    return read_csv(IRIS, classes="species")


def test_iris_shapes_and_names(iris):
    assert iris.inputs.shape == (150, 4)
    assert iris.targets.shape == (150, 3)
    assert iris.inputs.dtype == np.float64 and iris.targets.dtype == np.float64
    assert iris.input_names == FEATURES
    assert iris.target_names == SPECIES
    assert len(iris) == 150


def test_iris_one_hot_targets_50_per_class(iris):
    assert set(np.unique(iris.targets)) == {0.0, 1.0}
    np.testing.assert_array_equal(iris.targets.sum(axis=1), np.ones(150))
    np.testing.assert_array_equal(iris.targets.sum(axis=0), [50, 50, 50])
    # the labels say the same as the one-hot targets, row by row
    assert [SPECIES[k] for k in iris.targets.argmax(axis=1)] == iris.labels
    assert iris.labels[:50] == ["setosa"] * 50 and iris.labels[-1] == "virginica"


def test_iris_exact_rows(iris):
    np.testing.assert_array_equal(iris.inputs[0], [5.1, 3.5, 1.4, 0.2])
    np.testing.assert_array_equal(iris.targets[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(iris.inputs[-1], [5.9, 3.0, 5.1, 1.8])
    np.testing.assert_array_equal(iris.targets[-1], [0.0, 0.0, 1.0])


def test_iris_column_means(iris):
    np.testing.assert_array_equal(np.round(iris.inputs.mean(axis=0), 3), [5.843, 3.057, 3.758, 1.199])


def test_iris_file_header_and_species():
    lines = IRIS.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(FEATURES + ["species"])
    assert len(lines) == 151
    assert {line.rsplit(",", 1)[1] for line in lines[1:]} == set(SPECIES)
    assert (IRIS.parent / "README.md").is_file()


def test_iris_read_with_str_path_and_read_patterns(iris):
    by_str = read_csv(str(IRIS), classes="species")
    by_dispatch = read_patterns(IRIS, classes="species")
    for other in (by_str, by_dispatch):
        np.testing.assert_array_equal(other.inputs, iris.inputs)
        np.testing.assert_array_equal(other.targets, iris.targets)


# --- choosing columns -----------------------------------------------------------------------


def test_columns_by_name_in_the_order_given():
    data = read_csv(IRIS, inputs=["petal_width", "sepal_length"], targets=["petal_length"])
    assert data.input_names == ["petal_width", "sepal_length"]
    assert data.target_names == ["petal_length"]
    np.testing.assert_array_equal(data.inputs[0], [0.2, 5.1])
    np.testing.assert_array_equal(data.targets[:2, 0], [1.4, 1.4])
    assert data.labels is None


def test_columns_by_index_and_single_column():
    data = read_csv(IRIS, inputs=[0, 1], targets=3)
    assert data.input_names == ["sepal_length", "sepal_width"]
    assert data.target_names == ["petal_width"]
    assert data.targets.shape == (150, 1)
    np.testing.assert_array_equal(data.inputs[0], [5.1, 3.5])


def test_default_inputs_are_the_other_columns(tmp_path):
    path = write(tmp_path, "t.csv", "a,b,c,d\n1,2,3,4\n5,6,7,8\n")
    data = read_csv(path, targets=["c"])
    assert data.input_names == ["a", "b", "d"]
    np.testing.assert_array_equal(data.inputs, [[1, 2, 4], [5, 6, 8]])
    np.testing.assert_array_equal(data.targets, [[3], [7]])


def test_unused_columns_may_hold_text(tmp_path):
    path = write(tmp_path, "t.csv", "id,x,y\nfirst,1,0\nsecond,0,1\n")
    data = read_csv(path, inputs=["x"], targets=["y"])
    np.testing.assert_array_equal(data.inputs, [[1], [0]])


def test_a_column_may_be_input_and_target(tmp_path):
    path = write(tmp_path, "t.csv", "a,b\n1,0\n0,1\n")
    data = read_csv(path, inputs=["a", "b"], targets=["a", "b"])
    np.testing.assert_array_equal(data.inputs, data.targets)


def test_no_header_indices_delimiter_blank_lines_and_crlf(tmp_path):
    path = write(tmp_path, "t.csv", "\r\n1; 2 ;x\r\n\r\n  \r\n3;4;y\r\n\r\n")
    data = read_csv(path, header=False, inputs=[0], targets=[1], delimiter=";")
    np.testing.assert_array_equal(data.inputs, [[1], [3]])
    np.testing.assert_array_equal(data.targets, [[2], [4]])
    assert data.input_names is None and data.target_names is None
    by_class = read_csv(path, header=False, classes=2, delimiter=";")
    assert by_class.target_names == ["x", "y"]
    np.testing.assert_array_equal(by_class.inputs, [[1, 2], [3, 4]])


def test_byte_order_mark_and_quoted_fields(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes('\ufeff"x","label"\n"1.5","a, b"\n2,c\n'.encode("utf-8"))
    data = read_csv(path, classes="label")
    assert data.input_names == ["x"]
    assert data.target_names == ["a, b", "c"]
    np.testing.assert_array_equal(data.inputs, [[1.5], [2.0]])


# --- class labels ---------------------------------------------------------------------------


def test_numeric_class_labels_sort_numerically(tmp_path):
    path = write(tmp_path, "digits.csv", "x,digit\n0.1,10\n0.2,2\n0.3,1\n0.4,2\n0.5,-3\n")
    data = read_csv(path, classes="digit")
    assert data.target_names == ["-3", "1", "2", "10"]  # text order would be -3, 1, 10, 2
    np.testing.assert_array_equal(data.targets.argmax(axis=1), [3, 2, 1, 2, 0])
    np.testing.assert_array_equal(data.targets.sum(axis=0), [1, 1, 2, 1])
    assert data.labels == ["10", "2", "1", "2", "-3"]


def test_mixed_class_labels_sort_as_text(tmp_path):
    path = write(tmp_path, "t.csv", "x,c\n1,b\n2,10\n3,a\n4,2\n")
    assert read_csv(path, classes="c").target_names == ["10", "2", "a", "b"]


def test_class_labels_are_stripped(tmp_path):
    path = write(tmp_path, "t.csv", "x,c\n1, cat\n2,cat \n3,dog\n")
    data = read_csv(path, classes="c")
    assert data.target_names == ["cat", "dog"]
    np.testing.assert_array_equal(data.targets.sum(axis=0), [2, 1])


# --- CSV refusals ---------------------------------------------------------------------------


def test_not_a_number_names_file_line_and_column(tmp_path):
    text = IRIS.read_text(encoding="utf-8").splitlines()
    fields = text[16].split(",")
    fields[3] = "abc"
    text[16] = ",".join(fields)
    path = write(tmp_path, "iris.csv", "\n".join(text) + "\n")
    err = refused([], read_csv, path, classes="species")
    assert str(err).endswith("iris.csv: line 17, column 'petal_width': 'abc' is not a number")


@pytest.mark.parametrize(("value", "problem"), [
    ("", "empty field, expected a number"),
    ("nan", "'nan' is not a finite number"),
    ("-inf", "'-inf' is not a finite number"),
    ("1_000", "'1_000' is not a number"),
    ("0x10", "'0x10' is not a number"),
])
def test_bad_numbers(tmp_path, value, problem):
    path = write(tmp_path, "t.csv", f"a,b\n1,2\n\n3,{value}\n")
    refused([f"t.csv: line 4, column 'b': {problem}"], read_csv, path, targets=["b"])


def test_bad_number_without_header_names_column_index(tmp_path):
    path = write(tmp_path, "t.csv", "1,2\n3,x\n")
    refused(["t.csv: line 2, column 1: 'x' is not a number"], read_csv, path, header=False, targets=[1])


def test_unknown_column_suggests_the_closest_and_lists_none():
    # The header is file content (a scenario may name any file): only the one name close
    # to what was typed is shown, and how many columns there are, never the list.
    err = refused([str(IRIS), "targets: unknown column 'petal_widht'", "did you mean 'petal_width'?",
                   "the file has 5 columns"], read_csv, IRIS, targets=["petal_widht"])
    assert not [column for column in FEATURES[:3] + ["species"] if column in str(err)], str(err)
    refused(["classes: unknown column 'specie'", "did you mean 'species'?"], read_csv, IRIS, classes="specie")
    err = refused(["inputs: unknown column 'colour'", "the file has 5 columns; name one from its header or give a "
                   "0-based index"], read_csv, IRIS, inputs=["colour"], classes="species")
    assert not [column for column in FEATURES + ["species"] if column in str(err)], str(err)


def test_column_index_out_of_range_and_wrong_types():
    refused(["iris.csv: targets: column index 5 is out of range", "5 columns (indices 0 to 4)"],
            read_csv, IRIS, targets=[5])
    refused(["column index -1 is out of range"], read_csv, IRIS, targets=[-1])
    refused(["inputs: a column is a name or a 0-based index, got 1.5 (float)"], read_csv, IRIS,
            inputs=[1.5], classes="species")
    refused(["a column is a name or a 0-based index, got True"], read_csv, IRIS, targets=[True])
    refused(["classes must be one column", "['species']"], read_csv, IRIS, classes=["species"])
    refused(["inputs is an empty list"], read_csv, IRIS, inputs=[], classes="species")


def test_names_need_a_header(tmp_path):
    path = write(tmp_path, "t.csv", "1,2\n")
    refused(["t.csv: targets: column 'b' is a name", "header=False", "0-based column indices"],
            read_csv, path, header=False, targets=["b"])


def test_repeated_and_conflicting_columns(tmp_path):
    refused(["inputs: column 'sepal_width' is listed twice"], read_csv, IRIS,
            inputs=["sepal_width", 1], classes="species")
    refused(["inputs: column 'species' is the class column"], read_csv, IRIS,
            inputs=["sepal_width", "species"], classes="species")
    refused(["give either targets", "not both"], read_csv, IRIS, targets=[0], classes="species")
    refused(["iris.csv: say which columns are the targets", "targets=[...]", "classes="], read_csv, IRIS)
    path = write(tmp_path, "t.csv", "c\na\nb\n")
    refused(["t.csv: no columns are left for the inputs"], read_csv, path, classes="c")


def test_ragged_rows(tmp_path):
    path = write(tmp_path, "t.csv", "a,b,c,d,e\n1,2,3,4,5\n\n1,2,3,4,5\n1,2,3,4\n")
    err = refused([], read_csv, path, targets=["e"])
    assert str(err).endswith("t.csv: line 5 has 4 fields but the header has 5")
    path = write(tmp_path, "u.csv", "1,2\n3,4,5\n")
    refused(["u.csv: line 2 has 3 fields but line 1 has 2"], read_csv, path, header=False, targets=[0])


def test_bad_header(tmp_path):
    path = write(tmp_path, "t.csv", "a,b,a\n1,2,3\n")
    refused(["t.csv: line 1: the header names column 'a' twice"], read_csv, path, targets=[1])
    path = write(tmp_path, "u.csv", "a,,c\n1,2,3\n")
    refused(["u.csv: line 1: column 1 of the header has no name"], read_csv, path, targets=[0])
    path = write(tmp_path, "v.csv", "\na,b\n\n")
    refused(["v.csv: no data rows after the header"], read_csv, path, targets=["b"])


def test_empty_file(tmp_path):
    for text in ("", "\n\n  \n"):
        path = write(tmp_path, "empty.csv", text)
        err = refused([], read_csv, path, targets=[0])
        assert str(err) == f"{path}: the file is empty"


def test_missing_file_suggests_neighbour(tmp_path):
    write(tmp_path, "iris.csv", "a,b\n1,2\n")
    write(tmp_path, "notes.txt", "not data")
    err = refused([str(tmp_path / "iris.cvs"), "no such file", "did you mean 'iris.csv'?"],
                  read_csv, tmp_path / "iris.cvs", targets=[0])
    assert "notes.txt" not in str(err)
    refused(["no such file", "does not exist"], read_csv, tmp_path / "nowhere" / "x.csv", targets=[0])
    refused(["missing.data: no such file"], read_fann, tmp_path / "missing.data")


def test_directory_and_bad_path_type(tmp_path):
    refused([f"{tmp_path}: is a directory, not a data file"], read_csv, tmp_path, targets=[0])
    refused(["is a directory"], read_fann, tmp_path)
    refused(["a data file path must be a str or pathlib.Path, got int"], read_csv, 42, targets=[0])


def test_not_utf8_and_not_csv(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b\n1,\xe9\n".encode("latin-1"))
    refused(["latin.csv: not a UTF-8 text file"], read_csv, path, targets=[0])
    path = write(tmp_path, "q.csv", 'a,b\n1,"2"x\n')
    refused(["q.csv: line 2: not valid CSV"], read_csv, path, targets=[0])
    refused(["delimiter must be a single character", "';;'"], read_csv, IRIS, delimiter=";;", targets=[0])


def test_empty_class_label(tmp_path):
    path = write(tmp_path, "t.csv", "x,c\n1,a\n2, \n")
    refused(["t.csv: line 3, column 'c': empty class label"], read_csv, path, classes="c")


# --- what messages may quote of a file --------------------------------------------------------

SECRETS = ("root:$6$saltsalt$hashhashhash", "daemon:*:19000", "bin:*:19000")


def test_unknown_names_never_list_the_files_names(tmp_path):
    path = write(tmp_path, "shadow.csv", ",".join(SECRETS) + ",x\n1,2,3,4\n")
    err = refused(["shadow.csv: inputs: unknown column 'colour'", "the file has 4 columns"],
                  read_csv, path, inputs=["colour"], targets=["x"])
    assert not [s for s in SECRETS if s in str(err)], str(err)
    err = refused(["did you mean 'daemon:*:19000'? (the file has 4 columns;"], read_csv, path,
                  inputs=["daemon:*:1900"], targets=["x"])
    assert not [s for s in SECRETS if s in str(err).replace("'daemon:*:19000'", "")], str(err)


def test_unknown_classes_never_list_the_files_labels(tmp_path):
    path = write(tmp_path, "labels.csv", "x,label\n" + "".join(f"{k},{s}\n" for k, s in enumerate(SECRETS)))
    for kwargs, fragments in (
        ({"keep_classes": ["rose"]}, ["labels.csv: keep_classes: no row has the class 'rose'; the file has 3 classes"]),
        ({"positive_class": "rose"}, ["labels.csv: positive_class: no (kept) row has the class 'rose'; "
                                      "the file has 3 classes"]),
        ({"keep_classes": ["bin:*:19000", "daemon:*:19000"], "positive_class": "rose"},
         ["no (kept) row has the class 'rose'; the kept rows have 2 classes"]),
    ):
        err = refused(fragments, read_csv, path, classes="label", **kwargs)
        assert not [s for s in SECRETS if s in str(err)], str(err)
    err = refused(["no row has the class 'bin:*:1900'; did you mean 'bin:*:19000'? (the file has 3 classes)"],
                  read_csv, path, classes="label", keep_classes=["bin:*:1900"])
    assert SECRETS[0] not in str(err) and SECRETS[1] not in str(err)


def test_the_fann_header_message_quotes_only_the_offending_value(tmp_path):
    path = write(tmp_path, "h.data", f"4 {SECRETS[0]} 1\n{SECRETS[1]} {SECRETS[2]}\n")
    err = refused([f"h.data: line 1: the header must be three whole numbers: num_patterns num_inputs num_outputs; "
                   f"num_inputs is {SECRETS[0]!r}"], read_fann, path)
    assert "4 root" not in str(err) and SECRETS[1] not in str(err) and SECRETS[2] not in str(err)
    path = write(tmp_path, "split.data", f"4\n2\n{SECRETS[1]}\n")
    refused(["split.data: line 3: the header must be three whole numbers", f"num_outputs is {SECRETS[1]!r}"],
            read_fann, path)
    path = write(tmp_path, "huge.data", "9" * 5000 + " 2 1\n0 0 0\n")      # int() would refuse 5000 digits
    err = refused(["huge.data: line 1: the header gives num_patterns = '" + "9" * 39 + "…' (5000 characters), "
                   "more than any file holds"], read_fann, path)
    assert "9" * 41 not in str(err)


def test_a_huge_token_is_shortened_to_40_characters(tmp_path):
    token = "a" * 1_000_000           # a line with no delimiter: one token
    shown = "'" + "a" * 39 + "…' (1000000 characters)"
    err = refused([f"v.data: line 2: {shown} is not a number (pattern 1, input 1)"], read_fann,
                  write(tmp_path, "v.data", f"1 1 1\n{token}\n0\n"))
    assert len(str(err)) < 200
    field = "b" * 100_000             # below the csv module's field limit
    err = refused(["t.csv: line 2, column 'x': '" + "b" * 39 + "…' (100000 characters) is not a number"],
                  read_csv, write(tmp_path, "t.csv", f"x,y\n{field},1\n"), targets=["y"])
    assert len(str(err)) < 200
    name = "c" * 50
    err = refused(["u.csv: line 1: the header names column '" + "c" * 39 + "…' (50 characters) twice"],
                  read_csv, write(tmp_path, "u.csv", f"{name},{name}\n1,2\n"), targets=[0])
    assert name not in str(err)
    short = "d" * 40                  # 40 characters are quoted whole
    refused([f"line 2, column 'x': {short!r} is not a number"], read_csv,
            write(tmp_path, "w.csv", f"x,y\n{short},1\n"), targets=["y"])


# --- FANN -----------------------------------------------------------------------------------

XOR_INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_TARGETS = [[0], [1], [1], [0]]


def test_fann_xor():
    data = read_fann(XOR)
    np.testing.assert_array_equal(data.inputs, XOR_INPUTS)
    np.testing.assert_array_equal(data.targets, XOR_TARGETS)
    assert data.inputs.dtype == np.float64
    assert data.input_names is None and data.target_names is None and data.labels is None


def test_fann_reads_tokens_not_lines():
    # same numbers as xor.data, wrapped over lines arbitrarily with a blank line
    assert XOR_WRAPPED.read_text().splitlines()[1] == "0 0 0   0"
    data = read_fann(XOR_WRAPPED)
    np.testing.assert_array_equal(data.inputs, XOR_INPUTS)
    np.testing.assert_array_equal(data.targets, XOR_TARGETS)


def test_fann_header_split_and_number_forms(tmp_path):
    path = write(tmp_path, "t.train", "2\n1\t2\n-1.5e0 +0.25 1E2\n.5 -0 7\n")
    data = read_fann(path)
    np.testing.assert_array_equal(data.inputs, [[-1.5], [0.5]])
    np.testing.assert_array_equal(data.targets, [[0.25, 100.0], [0.0, 7.0]])


def test_fann_too_few_numbers(tmp_path):
    text = XOR.read_text().rstrip().rsplit("\n", 1)[0] + "\n"  # drop the last output
    path = write(tmp_path, "xor.data", text)
    err = refused([], read_fann, path)
    assert str(err) == (f"{path}: expected 4 patterns of 2 inputs and 1 output (12 numbers) after the "
                        f"header, found 11; pattern 4 is incomplete")


def test_fann_too_many_numbers(tmp_path):
    path = write(tmp_path, "xor.data", XOR.read_text() + "1 1\n")
    refused(["xor.data: expected 4 patterns of 2 inputs and 1 output (12 numbers) after the header, "
             "found 14; 2 numbers too many"], read_fann, path)
    path = write(tmp_path, "one.data", "1 1 1\n0 1\n1 0\n")
    refused(["one.data: expected 1 pattern of 1 input and 1 output (2 numbers)", "found 4; that is 2 patterns",
             "is num_patterns in the header right?"], read_fann, path)


def test_fann_bad_header(tmp_path):
    for header in ("4 2", "4 two 1", "4 2 1.0", "-4 2 1"):
        path = write(tmp_path, "h.data", header + "\n")
        refused(["h.data: line 1: the header", "must be three whole numbers",
                 "num_patterns num_inputs num_outputs"], read_fann, path)
    path = write(tmp_path, "z.data", "4 0 1\n0 1 1 0\n")
    refused(["z.data: line 1: the header gives num_inputs = 0; it must be at least 1"], read_fann, path)


def test_fann_empty_file(tmp_path):
    path = write(tmp_path, "e.data", " \n\n")
    refused(["e.data: the file is empty", "num_patterns num_inputs num_outputs"], read_fann, path)


def test_fann_bad_value_names_line_pattern_and_position(tmp_path):
    path = write(tmp_path, "v.data", "2 2 1\n0 0 0\n1 abc\n1\n")
    refused(["v.data: line 3: 'abc' is not a number (pattern 2, input 2)"], read_fann, path)
    path = write(tmp_path, "w.data", "2 2 1\n0 0 0\n1 1\nnan\n")
    refused(["w.data: line 4: 'nan' is not a finite number (pattern 2, output 1)"], read_fann, path)


# --- choosing the reader --------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".data", ".train", ".test", ".fann", ".DATA"])
def test_read_patterns_fann_extensions(tmp_path, suffix):
    path = write(tmp_path, "xor" + suffix, XOR.read_text())
    np.testing.assert_array_equal(read_patterns(path).targets, XOR_TARGETS)


def test_read_patterns_format_overrides_extension(tmp_path):
    path = write(tmp_path, "xor.txt", XOR.read_text())
    np.testing.assert_array_equal(read_patterns(path, format="fann").inputs, XOR_INPUTS)
    path = write(tmp_path, "table.txt", "a,b\n1,2\n")
    np.testing.assert_array_equal(read_patterns(path, "csv", targets=["b"]).targets, [[2]])


def test_read_patterns_refusals(tmp_path):
    path = write(tmp_path, "xor.txt", XOR.read_text())
    refused(["xor.txt: cannot tell the format from the extension '.txt'", "format='csv'",
             "csv (.csv), fann (.data, .train, .test, .fann)"], read_patterns, path)
    write(tmp_path, "xor", XOR.read_text())
    refused(["cannot tell the format from a file name without an extension"], read_patterns, tmp_path / "xor")
    refused([f"{tmp_path / 'nowhere'}: no such file"], read_patterns, tmp_path / "nowhere")
    refused([f"{tmp_path}: is a directory, not a data file"], read_patterns, tmp_path)
    refused(["xor.txt: unknown format 'fan'; did you mean 'fann'? formats: csv, fann"],
            read_patterns, path, format="fan")
    refused(["xor.data: the fann format takes no options, got classes"], read_patterns, XOR, classes="x")
    refused(["unknown csv option 'target'; did you mean 'targets'?"], read_patterns, IRIS, target=[0])
    assert set(FORMATS) == {"csv", "fann"}


# --- writing --------------------------------------------------------------------------------


def test_write_fann_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(7)
    original = Patterns(rng.normal(size=(6, 3)) * 10.0 ** rng.integers(-8, 8, size=(6, 3)),
                        np.array([[0.1, 1 / 3], [0, 1], [-2.5, 1e-300], [5e-324, 0.2], [1e300, -0.0], [7, 8]]))
    path = tmp_path / "out.data"
    write_fann(path, original)
    back = read_fann(path)
    np.testing.assert_array_equal(back.inputs, original.inputs)
    np.testing.assert_array_equal(back.targets, original.targets)
    assert back.inputs.shape == (6, 3) and back.targets.shape == (6, 2)
    lines = path.read_text().splitlines()
    assert lines[0] == "6 3 2" and len(lines) == 1 + 2 * 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.data"]


def test_write_fann_matches_fann_layout(tmp_path):
    path = tmp_path / "xor.data"
    write_fann(str(path), read_fann(XOR))
    assert path.read_text() == "4 2 1\n0.0 0.0\n0.0\n0.0 1.0\n1.0\n1.0 0.0\n1.0\n1.0 1.0\n0.0\n"


def test_write_fann_iris_round_trip(tmp_path, iris):
    path = tmp_path / "iris.fann"
    write_fann(path, iris)
    back = read_patterns(path)
    np.testing.assert_array_equal(back.inputs, iris.inputs)
    np.testing.assert_array_equal(back.targets, iris.targets)


def test_write_fann_replaces_and_keeps_mode(tmp_path):
    path = write(tmp_path, "x.data", "old contents")
    os.chmod(path, 0o640)
    write_fann(path, read_fann(XOR))
    np.testing.assert_array_equal(read_fann(path).inputs, XOR_INPUTS)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_new_file_gets_umask_mode(tmp_path):
    umask = os.umask(0o027)
    try:
        write_fann(tmp_path / "x.data", read_fann(XOR))
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "x.data").st_mode) == 0o640


def test_interrupted_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = write(tmp_path, "x.data", "old contents\n")
    seen = []

    def failing_replace(src, dst):
        seen.append(Path(src))
        assert Path(src).parent == tmp_path and Path(src).read_text().startswith("4 2 1\n")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    err = refused([f"{path}: cannot write: No space left on device"], write_fann, path, read_fann(XOR))
    assert isinstance(err.__cause__, OSError)
    assert len(seen) == 1 and not seen[0].exists()
    assert path.read_text() == "old contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.data"]


def test_keyboard_interrupt_during_write_cleans_up(tmp_path, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_fann(tmp_path / "new.data", read_fann(XOR))
    assert list(tmp_path.iterdir()) == []


def test_write_fann_refusals(tmp_path):
    good = read_fann(XOR)
    refused(["cannot write: the folder", "does not exist"], write_fann, tmp_path / "no" / "x.data", good)
    refused([f"{tmp_path}: is a directory"], write_fann, tmp_path, good)
    refused(["the inputs of pattern 2 are not all finite"], write_fann, tmp_path / "x.data",
            Patterns(np.array([[0.0], [np.nan]]), np.zeros((2, 1))))
    refused(["4 input rows but 3 target rows"], write_fann, tmp_path / "x.data",
            Patterns(good.inputs, good.targets[:3]))
    refused(["the targets must be a non-empty (n_patterns, n_columns) array, got shape (4,)"],
            write_fann, tmp_path / "x.data", Patterns(good.inputs, good.targets[:, 0]))
    refused(["write_fann needs a Patterns object, got list"], write_fann, tmp_path / "x.data", [[0, 1]])
    assert list(tmp_path.iterdir()) == []


def test_docstring_examples_run():
    result = doctest.testmod(neurosim.datafiles, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


def test_iris_as_a_binary_task_keeps_two_classes_and_one_target():
    from neurosim.datafiles import read_csv
    iris = Path(__file__).resolve().parents[1] / "scenarios" / "data" / "iris.csv"
    data = read_csv(iris, classes="species", keep_classes=["versicolor", "virginica"], positive_class="virginica")
    assert data.inputs.shape == (100, 4) and data.targets.shape == (100, 1)
    assert data.targets.sum() == 50 and data.target_names == ["virginica"]
    assert set(data.labels) == {"versicolor", "virginica"}
    assert all((t == 1.0) == (label == "virginica") for t, label in zip(data.targets[:, 0], data.labels))
    with pytest.raises(neurosim.DataError, match="did you mean 'virginica'"):
        read_csv(iris, classes="species", positive_class="virginca")
    with pytest.raises(neurosim.DataError, match="keep_classes"):
        read_csv(iris, classes="species", keep_classes=["rose"])
    with pytest.raises(neurosim.DataError, match="class column"):
        read_csv(iris, targets=["petal_width"], positive_class="setosa")
