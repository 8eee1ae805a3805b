"""Read and write pattern files: CSV tables and FANN training files, as :class:`Patterns`.

:func:`read_csv` reads a table with (or without) a header, taking chosen columns as inputs
and targets, or one-hot encoding a column of class labels into targets; :func:`read_fann`
reads the training-file format of the FANN library (a ``num_patterns num_inputs
num_outputs`` header followed by the numbers of every pattern); :func:`read_patterns`
picks one of the two by format name or file extension; :func:`write_fann` writes FANN
files atomically, so an interrupted write never leaves a half-written file. Files are read
through :func:`neurosim.io.read_text`: regular files only, at most
:data:`neurosim.io.DATA_FILE_LIMIT` bytes. Every refusal is a :class:`neurosim.DataError`
whose message starts with the file and says where in it the problem is (``iris.csv: line
17, column 'petal_width': 'abc' is not a number``). A scenario may point a reader at any
file, so messages quote no more of it than the offending token, shortened to
:data:`QUOTE_LIMIT` characters, and never list its header names or class labels: they
suggest the one closest name, if one is close, and say how many there are
(``docs/security.md``).
"""

from __future__ import annotations

import csv
import errno
import io
import math
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np

from . import io as files
from .errors import DataError, closest, did_you_mean
from .functions import Patterns

__all__ = ["read_csv", "read_fann", "read_patterns", "write_fann", "FORMATS"]

PathLike = Union[str, "os.PathLike[str]"]
Column = Union[str, int]

#: Formats :func:`read_patterns` knows, with the file extensions that select them.
FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "fann": (".data", ".train", ".test", ".fann"),
}

_DATA_SUFFIXES = tuple(s for suffixes in FORMATS.values() for s in suffixes)

#: The most characters of a data file's token a message quotes (see :func:`_quote`).
QUOTE_LIMIT = 40


# --- shared helpers -----------------------------------------------------------------------


def _plural(count: int, word: str, plural: str | None = None) -> str:
    """``"1 output"``, ``"2 outputs"`` (``plural`` for words that take more than an s)."""
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _quote(token: str) -> str:
    """A token of a data file, quoted for a message: whole when it is short, else its start
    and its length (``'aaaaaaaa…' (1000000 characters)``), never more than
    :data:`QUOTE_LIMIT` characters of it."""
    if len(token) <= QUOTE_LIMIT:
        return repr(token)
    return f"{token[:QUOTE_LIMIT - 1] + '…'!r} ({len(token)} characters)"


def _suggest(name: str, choices: Sequence[str], count: str) -> str:
    """``did you mean 'x'? (count)`` when one of the file's ``choices`` is close to what the
    user typed, else ``count`` alone (``"the file has 5 columns"``): never the list."""
    close = closest(name, choices)
    return f"did you mean {_quote(close)}? ({count})" if close is not None else count


def _number(text: str) -> float | None:
    """``text`` as a finite float, or None when it is not one.

    Python's ``float`` also accepts ``1_000``, ``nan`` and ``inf``; none of these belongs
    in a pattern file, so they are refused here.
    """
    text = text.strip()
    if "_" in text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _not_a_number(text: str) -> str:
    """The problem with a field that :func:`_number` refused."""
    text = text.strip()
    if not text:
        return "empty field, expected a number"
    try:
        value = float(text)
    except ValueError:
        return f"{_quote(text)} is not a number"
    if "_" not in text and not math.isfinite(value):
        return f"{_quote(text)} is not a finite number"
    return f"{_quote(text)} is not a number"


def _read_text(path: PathLike) -> tuple[str, str]:
    """Return ``(name, text)`` of a data file (:func:`neurosim.io.read_text`: a regular file
    of at most :data:`neurosim.io.DATA_FILE_LIMIT` bytes, UTF-8 with or without a BOM).

    ``name`` is the path as the caller spelt it, used at the start of every message.
    """
    try:
        name = os.fspath(path)
    except TypeError:
        raise DataError(f"a data file path must be a str or pathlib.Path, got {type(path).__name__}") from None
    try:
        return name, files.read_text(name, limit=files.DATA_FILE_LIMIT, what="a data file", encoding="utf-8-sig")
    except files.FileError as err:
        if err.errno == errno.ENOENT:
            raise DataError(f"{name}: no such file{_nearby_files(Path(name))}") from None
        raise


def _nearby_files(file: Path) -> str:
    """A hint naming data files next to a missing one (``; did you mean 'iris.csv'? ...``)."""
    folder = file.parent
    if not folder.is_dir():
        return f" (the folder {os.fspath(folder)!r} does not exist)"
    try:
        names = [p.name for p in folder.iterdir() if p.suffix.lower() in _DATA_SUFFIXES and p.is_file()]
    except OSError:
        return ""
    if not names:
        return ""
    return "; " + did_you_mean(file.name, names, label=f"data files in {os.fspath(folder) or '.'}")


# --- CSV ----------------------------------------------------------------------------------


def _as_columns(spec: Column | Sequence[Column] | None, what: str) -> list[Column] | None:
    """Normalise a column argument: one name or index, or a list of them."""
    if spec is None:
        return None
    if isinstance(spec, (str, int, np.integer)):
        return [spec]
    try:
        columns = list(spec)
    except TypeError:
        raise DataError(f"{what} must be a column name, a 0-based index or a list of them, "
                        f"got {type(spec).__name__}") from None
    if not columns:
        raise DataError(f"{what} is an empty list; name at least one column")
    return columns


class _Table:
    """The rows of a CSV file, with the header (if any) and the line number of each row."""

    def __init__(self, name: str, text: str, delimiter: str, header: bool):
        self.name = name
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        rows: list[tuple[int, list[str]]] = []
        try:
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line
                rows.append((reader.line_num, row))
        except csv.Error as err:
            raise DataError(f"{name}: line {reader.line_num}: not valid CSV ({err})") from None
        if not rows:
            raise DataError(f"{name}: the file is empty")
        self.header: list[str] | None = None
        if header:
            line, names = rows.pop(0)
            self.header = [n.strip() for n in names]
            for i, n in enumerate(self.header):
                if not n:
                    raise DataError(f"{name}: line {line}: column {i} of the header has no name")
                if n in self.header[:i]:
                    raise DataError(f"{name}: line {line}: the header names column {_quote(n)} twice")
            self.width = len(self.header)
            if not rows:
                raise DataError(f"{name}: no data rows after the header")
        else:
            line, first = rows[0]
            self.width = len(first)
        for number, row in rows:
            if len(row) != self.width:
                against = "the header" if header else f"line {line}"
                raise DataError(f"{name}: line {number} has {len(row)} fields but {against} has {self.width}")
        self.rows = rows

    def label(self, index: int) -> str:
        """How messages name column ``index``: ``column 'petal_width'`` or ``column 3``."""
        return f"column {_quote(self.header[index])}" if self.header is not None else f"column {index}"

    def index(self, column: Column, what: str) -> int:
        """The 0-based index of a column given by name or index."""
        if isinstance(column, bool) or not isinstance(column, (str, int, np.integer)):
            raise DataError(f"{self.name}: {what}: a column is a name or a 0-based index, "
                            f"got {column!r} ({type(column).__name__})")
        if isinstance(column, str):
            if self.header is None:
                raise DataError(f"{self.name}: {what}: column {column!r} is a name, but the file is read "
                                f"without a header (header=False); give 0-based column indices")
            if column not in self.header:
                count = (f"the file has {_plural(self.width, 'column')}; name one from its header or give a "
                         "0-based index")
                raise DataError(f"{self.name}: {what}: unknown column {_quote(column)}; "
                                f"{_suggest(column, self.header, count)}")
            return self.header.index(column)
        index = int(column)
        if not 0 <= index < self.width:
            raise DataError(f"{self.name}: {what}: column index {index} is out of range; the file has "
                            f"{_plural(self.width, 'column')} (indices 0 to {self.width - 1})")
        return index

    def indices(self, columns: list[Column], what: str) -> list[int]:
        """Indices of several columns, refusing a column named twice."""
        result: list[int] = []
        for column in columns:
            index = self.index(column, what)
            if index in result:
                raise DataError(f"{self.name}: {what}: {self.label(index)} is listed twice")
            result.append(index)
        return result

    def numbers(self, indices: list[int]) -> np.ndarray:
        """The chosen columns as a ``(n_rows, len(indices))`` float array."""
        out = np.empty((len(self.rows), len(indices)), dtype=float)
        for r, (line, row) in enumerate(self.rows):
            for c, index in enumerate(indices):
                value = _number(row[index])
                if value is None:
                    raise DataError(f"{self.name}: line {line}, {self.label(index)}: {_not_a_number(row[index])}")
                out[r, c] = value
        return out

    def names(self, indices: list[int]) -> list[str] | None:
        """Header names of the chosen columns (None without a header)."""
        return None if self.header is None else [self.header[i] for i in indices]


def _class_order(labels: set[str]) -> list[str]:
    """Distinct class labels in target order: numerically when all are numbers, else by text."""
    values = {label: _number(label) for label in labels}
    if all(v is not None for v in values.values()):
        return sorted(labels, key=lambda label: (values[label], label))
    return sorted(labels)


def read_csv(
    path: PathLike,
    *,
    inputs: Column | Sequence[Column] | None = None,
    targets: Column | Sequence[Column] | None = None,
    classes: Column | None = None,
    keep_classes: Sequence[str] | None = None,
    positive_class: str | None = None,
    delimiter: str = ",",
    header: bool = True,
) -> Patterns:
    """Read patterns from a CSV file.

    Parameters
    ----------
    path : str or path-like
        The file. It is read as UTF-8 (a byte-order mark is ignored); blank lines are
        skipped.
    inputs : list of str or int, optional
        The input columns, by header name or 0-based index, in the order the network's
        inputs should get them. Default: every column not used as a target or class.
    targets : list of str or int, optional
        The target columns (numbers), as for ``inputs``. A column may be both an input and
        a target (an auto-encoder).
    classes : str or int, optional
        One column of class labels (any text), one-hot encoded into one target per class.
        Give either ``targets`` or ``classes``.
    keep_classes : list of str, optional
        With ``classes``: keep only the rows whose label is listed (e.g. Iris's
        ``["versicolor", "virginica"]``); the others are dropped.
    positive_class : str, optional
        With ``classes``: one 0/1 target instead of one-hot, 1 for this label (a binary
        classification, for a sigmoid output and binary cross-entropy).
    delimiter : str, default ","
        The one-character field separator (``";"``, ``"\\t"``).
    header : bool, default True
        Whether the first non-blank line names the columns. Without a header, columns can
        only be chosen by index, and every row must have as many fields as the first.

    Returns
    -------
    Patterns
        ``inputs`` and ``targets`` as float arrays with one row per data row.
        ``input_names`` and ``target_names`` are the header names of the chosen columns
        (None without a header); with ``classes``, ``target_names`` are the distinct class
        labels -- sorted numerically when they are all numbers, else alphabetically -- and
        ``labels`` holds each pattern's class label.

    Raises
    ------
    DataError
        The file is missing, a directory, empty or not valid CSV; a row has the wrong
        number of fields; a column is unknown (with the closest header name), listed
        twice, or out of range; a chosen input or target field is not a finite number; a
        class label is empty; neither ``targets`` nor ``classes`` (or both) were given.
        Every message starts with the file name and gives the line and column.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "pets.csv"
    ...     _ = path.write_text("weight,ears,kind\\n4.0,1,cat\\n30,0,dog\\n3.5,1,cat\\n")
    ...     data = read_csv(path, classes="kind")
    >>> data.input_names, data.target_names
    (['weight', 'ears'], ['cat', 'dog'])
    >>> data.inputs.tolist(), data.targets.tolist()
    ([[4.0, 1.0], [30.0, 0.0], [3.5, 1.0]], [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "pets.csv"
    ...     _ = path.write_text("weight,kind\\n4.0,cat\\n\\nlots,dog\\n")
    ...     read_csv(path, classes="kind")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    neurosim.errors.DataError: .../pets.csv: line 4, column 'weight': 'lots' is not a number
    """
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise DataError(f"delimiter must be a single character such as ',' or ';', got {delimiter!r}")
    input_spec = _as_columns(inputs, "inputs")
    target_spec = _as_columns(targets, "targets")
    if classes is not None and (isinstance(classes, bool) or not isinstance(classes, (str, int, np.integer))):
        raise DataError(f"classes must be one column (a name or a 0-based index), got {classes!r}")
    name, text = _read_text(path)
    if classes is None and (keep_classes is not None or positive_class is not None):
        raise DataError(f"{name}: keep_classes and positive_class apply to a class column; give classes=...")
    if target_spec is None and classes is None:
        raise DataError(f"{name}: say which columns are the targets: give targets=[...] (numeric columns) "
                        f"or classes=... (one column of class labels to one-hot encode)")
    if target_spec is not None and classes is not None:
        raise DataError(f"{name}: give either targets (numeric columns) or classes (a column of class "
                        f"labels), not both")
    table = _Table(name, text, delimiter, header)

    class_index = None if classes is None else table.index(classes, "classes")
    target_index = None if target_spec is None else table.indices(target_spec, "targets")
    if input_spec is None:
        used = {class_index} if class_index is not None else set(target_index)
        input_index = [i for i in range(table.width) if i not in used]
        if not input_index:
            raise DataError(f"{name}: no columns are left for the inputs; give inputs=[...]")
    else:
        input_index = table.indices(input_spec, "inputs")
    if class_index is not None and class_index in input_index:
        raise DataError(f"{name}: inputs: {table.label(class_index)} is the class column; "
                        f"it cannot also be an input")

    x = table.numbers(input_index)
    if class_index is None:
        return Patterns(x, table.numbers(target_index), table.names(input_index), table.names(target_index))

    labels = []
    for line, row in table.rows:
        label = row[class_index].strip()
        if not label:
            raise DataError(f"{name}: line {line}, {table.label(class_index)}: empty class label")
        labels.append(label)
    present = _class_order(set(labels))
    if keep_classes is not None:
        if isinstance(keep_classes, str) or not all(isinstance(c, str) for c in keep_classes) or not keep_classes:
            raise DataError(f"{name}: keep_classes must be a list of class labels, got {keep_classes!r}")
        for c in keep_classes:
            if c not in present:
                count = f"the file has {_plural(len(present), 'class', 'classes')}"
                raise DataError(f"{name}: keep_classes: no row has the class {_quote(c)}; "
                                f"{_suggest(c, present, count)}")
        rows = [k for k, label in enumerate(labels) if label in keep_classes]
        x, labels = x[rows], [labels[k] for k in rows]
    order = _class_order(set(labels))
    if positive_class is not None:
        if positive_class not in order:
            count = (f"{'the kept rows have' if keep_classes is not None else 'the file has'} "
                     f"{_plural(len(order), 'class', 'classes')}")
            raise DataError(f"{name}: positive_class: no (kept) row has the class {_quote(str(positive_class))}; "
                            f"{_suggest(str(positive_class), order, count)}")
        t = np.array([[1.0 if label == positive_class else 0.0] for label in labels])
        return Patterns(x, t, table.names(input_index), [positive_class], labels)
    position = {label: k for k, label in enumerate(order)}
    t = np.zeros((len(labels), len(order)), dtype=float)
    t[np.arange(len(labels)), [position[label] for label in labels]] = 1.0
    return Patterns(x, t, table.names(input_index), order, labels)


# --- FANN ---------------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[int, str]]:
    """Whitespace-separated tokens of ``text`` with their 1-based line numbers."""
    lines = io.StringIO(text, newline="")
    return [(number, token) for number, line in enumerate(lines, start=1) for token in line.split()]


def read_fann(path: PathLike) -> Patterns:
    """Read a training file in the format of the FANN library.

    Parameters
    ----------
    path : str or path-like
        The file: three whole numbers ``num_patterns num_inputs num_outputs``, then for
        each pattern its ``num_inputs`` inputs followed by its ``num_outputs`` outputs.
        Like FANN, the reader takes whitespace-separated numbers and ignores how they are
        split into lines (FANN itself writes the inputs of a pattern on one line and its
        outputs on the next).

    Returns
    -------
    Patterns
        ``(num_patterns, num_inputs)`` inputs and ``(num_patterns, num_outputs)`` targets;
        the format has no names, so ``input_names``, ``target_names`` and ``labels`` are None.

    Raises
    ------
    DataError
        The file is missing, a directory or empty; the header is not three positive whole
        numbers; a value is not a finite number (with its line, pattern and position); or
        the file holds more or fewer numbers than the header promises (``xor.data:
        expected 4 patterns of 2 inputs and 1 output (12 numbers) after the header,
        found 11``).

    References
    ----------
    FANN's ``fann_read_train_from_file`` and ``fann_save_train``, http://leenissen.dk/fann/
    """
    name, text = _read_text(path)
    tokens = _tokens(text)
    if not tokens:
        raise DataError(f"{name}: the file is empty; a FANN training file starts with "
                        f"'num_patterns num_inputs num_outputs'")
    head = tokens[:3]
    rule = "the header must be three whole numbers: num_patterns num_inputs num_outputs"
    if len(head) < 3:
        raise DataError(f"{name}: line {head[-1][0]}: {rule}; the file ends after {_plural(len(head), 'value')}")
    counts = []
    for (line, tok), what in zip(head, ("num_patterns", "num_inputs", "num_outputs")):
        if not (tok.isascii() and tok.isdigit()):
            raise DataError(f"{name}: line {line}: {rule}; {what} is {_quote(tok)}")
        if len(tok.lstrip("0")) > 18:      # more than any file holds (and int() stops at 4300 digits)
            raise DataError(f"{name}: line {line}: the header gives {what} = {_quote(tok)}, more than any "
                            "file holds; is the header right?")
        if int(tok) == 0:
            raise DataError(f"{name}: line {line}: the header gives {what} = 0; it must be at least 1")
        counts.append(int(tok))
    n, n_in, n_out = counts
    width = n_in + n_out
    body = tokens[3:]
    expected = n * width
    if len(body) != expected:
        found = len(body)
        if found % width == 0:
            hint = f"; that is {_plural(found // width, 'pattern')}: is num_patterns in the header right?"
        elif found < expected:
            hint = f"; pattern {found // width + 1} is incomplete"
        else:
            hint = f"; {_plural(found - expected, 'number')} too many"
        raise DataError(f"{name}: expected {_plural(n, 'pattern')} of {_plural(n_in, 'input')} and "
                        f"{_plural(n_out, 'output')} ({_plural(expected, 'number')}) after the header, "
                        f"found {found}{hint}")
    values = np.empty(expected, dtype=float)
    for k, (line, token) in enumerate(body):
        value = _number(token)
        if value is None:
            pattern, position = divmod(k, width)
            where = f"input {position + 1}" if position < n_in else f"output {position - n_in + 1}"
            raise DataError(f"{name}: line {line}: {_not_a_number(token)} (pattern {pattern + 1}, {where})")
        values[k] = value
    values = values.reshape(n, width)
    return Patterns(values[:, :n_in].copy(), values[:, n_in:].copy())


def _check_patterns(name: str, patterns: Patterns) -> tuple[np.ndarray, np.ndarray]:
    """The inputs and targets of ``patterns`` as finite 2-D float arrays with equal rows."""
    arrays = []
    for what in ("inputs", "targets"):
        try:
            array = np.asarray(getattr(patterns, what), dtype=float)
        except AttributeError:
            raise DataError(f"{name}: write_fann needs a Patterns object, got {type(patterns).__name__}") from None
        except (TypeError, ValueError) as err:
            raise DataError(f"{name}: the {what} are not a numeric array ({err})") from None
        if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
            raise DataError(f"{name}: the {what} must be a non-empty (n_patterns, n_columns) array, "
                            f"got shape {array.shape}")
        if not np.isfinite(array).all():
            row = int(np.argwhere(~np.isfinite(array))[0][0])
            raise DataError(f"{name}: the {what} of pattern {row + 1} are not all finite")
        arrays.append(array)
    x, t = arrays
    if len(x) != len(t):
        raise DataError(f"{name}: {len(x)} input rows but {len(t)} target rows")
    return x, t


def write_fann(path: PathLike, patterns: Patterns) -> None:
    """Write patterns as a FANN training file, atomically.

    Parameters
    ----------
    path : str or path-like
        The file to create or replace. Its folder must exist.
    patterns : Patterns
        The patterns; names and labels are not written (the format has no place for them).

    Raises
    ------
    DataError
        The patterns are empty, not 2-D, have different numbers of input and target rows
        or non-finite values; the path is a directory or its folder is missing; or the
        file cannot be written (the ``OSError`` is the ``__cause__``).

    Notes
    -----
    The header line is followed by two lines per pattern, inputs then outputs, as FANN's
    ``fann_save_train`` writes them. Values are written in the shortest form that reads
    back as the same float, so :func:`read_fann` returns exactly the arrays written.

    The text goes to a new temporary file in the same folder, which is flushed to disk and
    then renamed over ``path`` with :func:`os.replace`. Readers therefore see the old file
    or the complete new one, never part of it; if anything fails (or the write is
    interrupted) the temporary file is removed and ``path`` is untouched. A replaced file
    keeps its permission bits; a new one gets the usual ones (``0o666`` less the umask).

    Examples
    --------
    >>> import tempfile
    >>> xor = Patterns(np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]]), np.array([[0.0], [1], [1], [0.5]]))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "xor.data"
    ...     write_fann(path, xor)
    ...     print(path.read_text(), end="")
    ...     read_patterns(path).targets.ravel().tolist()
    4 2 1
    0.0 0.0
    0.0
    0.0 1.0
    1.0
    1.0 0.0
    1.0
    1.0 1.0
    0.5
    [0.0, 1.0, 1.0, 0.5]
    """
    try:
        name = os.fspath(path)
    except TypeError:
        raise DataError(f"a data file path must be a str or pathlib.Path, got {type(path).__name__}") from None
    x, t = _check_patterns(name, patterns)
    target = Path(name)
    if target.is_dir():
        raise DataError(f"{name}: is a directory; give a file name to write")
    folder = target.parent
    if not folder.is_dir():
        raise DataError(f"{name}: cannot write: the folder {os.fspath(folder)!r} does not exist")

    lines = [f"{len(x)} {x.shape[1]} {t.shape[1]}"]
    for xi, ti in zip(x.tolist(), t.tolist()):
        lines.append(" ".join(map(repr, xi)))
        lines.append(" ".join(map(repr, ti)))
    content = "\n".join(lines) + "\n"

    tmp: Path | None = None
    try:
        for _ in range(100):
            candidate = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
            try:
                # 0o666 so the umask decides the bits, as for a file opened with open().
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            tmp = candidate
            break
        else:  # pragma: no cover - 100 random name collisions in a row
            raise FileExistsError(f"no free temporary file name next to {name}")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
        tmp = None
    except OSError as err:
        raise DataError(f"{name}: cannot write: {err.strerror or err}") from err
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# --- dispatch -----------------------------------------------------------------------------


def read_patterns(path: PathLike, format: str | None = None, **options: Any) -> Patterns:
    """Read patterns from a file, choosing the reader by format name or file extension.

    Parameters
    ----------
    path : str or path-like
        The file.
    format : {"csv", "fann"}, optional
        The format. Default: from the extension (``.csv`` is CSV; ``.data``, ``.train``,
        ``.test`` and ``.fann`` are FANN), ignoring case.
    **options
        Passed to :func:`read_csv` (``inputs``, ``targets``, ``classes``, ``delimiter``,
        ``header``). The FANN format takes none.

    Returns
    -------
    Patterns

    Raises
    ------
    DataError
        The format is unknown (with the closest known name), cannot be told from the
        extension, or was given options it does not take; or the reader refused the file.

    """
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    known = ", ".join(f"{fmt} ({', '.join(suffixes)})" for fmt, suffixes in FORMATS.items())
    if format is None and isinstance(name, str):      # a missing file, a directory, a device: say so first
        try:
            files.regular_file(name, what="a data file")
        except files.FileError as err:
            if err.errno == errno.ENOENT:
                raise DataError(f"{name}: no such file{_nearby_files(Path(name))}") from None
            raise
    if format is None:
        suffix = Path(name).suffix.lower() if isinstance(name, str) else ""
        format = next((fmt for fmt, suffixes in FORMATS.items() if suffix in suffixes), None)
        if format is None:
            shown = f"the extension {suffix!r}" if suffix else "a file name without an extension"
            raise DataError(f"{name}: cannot tell the format from {shown}; give format='csv' or "
                            f"format='fann'. formats: {known}")
    elif format not in FORMATS:
        raise DataError(f"{name}: unknown format {format!r}; {did_you_mean(format, FORMATS, label='formats')}")
    if format == "fann":
        if options:
            raise DataError(f"{name}: the fann format takes no options, got {', '.join(sorted(options))}")
        return read_fann(path)
    allowed = ("inputs", "targets", "classes", "keep_classes", "positive_class", "delimiter", "header")
    for option in options:
        if option not in allowed:
            raise DataError(f"{name}: unknown csv option {option!r}; "
                            f"{did_you_mean(option, allowed, label='csv options')}")
    return read_csv(path, **options)
