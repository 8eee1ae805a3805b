"""FANN 2.2 (the C library, double precision) as an optional benchmark reference, through ctypes.
:func:`load` finds ``libdoublefann`` (Debian/Ubuntu: ``apt-get install libfann-dev``) or
raises :class:`FannMissing` with that hint, so the benchmark can skip the FANN column with
a note. :class:`FannNet` builds a layered net with ``fann_create_standard_array`` and the
benchmark's settings — logistic units (``FANN_SIGMOID`` at steepness 0.5, FANN's sigmoid
being ``1/(1 + exp(-2·s·x))``), ``FANN_ERRORFUNC_LINEAR`` (plain ``t − y`` output error,
not FANN's default tanh error), momentum 0 — and the given initial weights, which it reads
back bit for bit before use. Training is one C call, ``fann_train_on_data``, over data
made with ``fann_create_train``, so no Python runs while FANN trains.

FANN's quirks that decide which workloads it can run with the same numbers: every layer's
bias is a trainable weight from a bias neuron (no frozen weights); ``FANN_TRAIN_BATCH``
has no momentum and divides its summed gradient by the number of patterns (so its
learning rate here is ``lr · n``); the learning rate is a C ``float``; and the sigmoid's
derivative ``y(1 − y)`` is taken with ``y`` clipped to [0.01, 0.99], a flat-spot fix that
changes the numbers once a unit saturates.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import tempfile

import numpy as np

__all__ = ["FannMissing", "load", "FannNet", "FANN_TRAIN_INCREMENTAL", "FANN_TRAIN_BATCH", "fann_float"]

FANN_TRAIN_INCREMENTAL, FANN_TRAIN_BATCH = 0, 1
FANN_SIGMOID = 3
FANN_ERRORFUNC_LINEAR = 0
#: Above this many connections the weights go in through a saved ``.net`` file:
#: ``fann_set_weight`` searches the whole net for each connection (quadratic in size).
_SET_WEIGHT_LIMIT = 5_000


class FannMissing(ImportError):
    """libdoublefann is not installed (or not loadable)."""


class _TrainData(ctypes.Structure):
    _fields_ = [("errno_f", ctypes.c_int), ("error_log", ctypes.c_void_p), ("errstr", ctypes.c_char_p),
                ("num_data", ctypes.c_uint), ("num_input", ctypes.c_uint), ("num_output", ctypes.c_uint),
                ("input", ctypes.POINTER(ctypes.POINTER(ctypes.c_double))),
                ("output", ctypes.POINTER(ctypes.POINTER(ctypes.c_double)))]


class _Connection(ctypes.Structure):
    _fields_ = [("from_neuron", ctypes.c_uint), ("to_neuron", ctypes.c_uint), ("weight", ctypes.c_double)]


_LIB = None


def load():
    """Load libdoublefann once and declare the functions the benchmark calls.

    Returns
    -------
    ctypes.CDLL

    Raises
    ------
    FannMissing
        When no libdoublefann can be loaded, naming the package that provides it.
    """
    global _LIB
    if _LIB is not None:
        return _LIB
    if os.environ.get("NEUROSIM_BENCH_NO_FANN"):
        raise FannMissing("FANN disabled (NEUROSIM_BENCH_NO_FANN)")
    lib = None
    for name in filter(None, (ctypes.util.find_library("doublefann"), "libdoublefann.so.2", "libdoublefann.so")):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        raise FannMissing("libdoublefann not found (apt-get install libfann-dev)")
    p, u, d, f = ctypes.c_void_p, ctypes.c_uint, ctypes.c_double, ctypes.c_float
    for fname, res, args in (
            ("fann_create_standard_array", p, [u, ctypes.POINTER(u)]), ("fann_destroy", None, [p]),
            ("fann_copy", p, [p]), ("fann_save", ctypes.c_int, [p, ctypes.c_char_p]),
            ("fann_create_from_file", p, [ctypes.c_char_p]),
            ("fann_set_activation_function_hidden", None, [p, ctypes.c_int]),
            ("fann_set_activation_function_output", None, [p, ctypes.c_int]),
            ("fann_set_activation_steepness_hidden", None, [p, d]),
            ("fann_set_activation_steepness_output", None, [p, d]),
            ("fann_set_training_algorithm", None, [p, ctypes.c_int]),
            ("fann_set_train_error_function", None, [p, ctypes.c_int]),
            ("fann_set_learning_rate", None, [p, f]), ("fann_set_learning_momentum", None, [p, f]),
            ("fann_get_learning_rate", f, [p]),
            ("fann_get_total_connections", u, [p]), ("fann_get_total_neurons", u, [p]),
            ("fann_get_connection_array", None, [p, ctypes.POINTER(_Connection)]),
            ("fann_set_weight_array", None, [p, ctypes.POINTER(_Connection), u]),
            ("fann_create_train", ctypes.POINTER(_TrainData), [u, u, u]),
            ("fann_destroy_train", None, [ctypes.POINTER(_TrainData)]),
            ("fann_train_on_data", None, [p, ctypes.POINTER(_TrainData), u, u, f])):
        fn = getattr(lib, fname)
        fn.restype, fn.argtypes = res, args
    _LIB = lib
    return lib


def fann_float(x: float) -> float:
    """``x`` rounded to a C float, as FANN stores its learning rate and momentum.

    Parameters
    ----------
    x : float

    Returns
    -------
    float
    """
    return float(np.float32(x))


class FannNet:
    """A layered FANN net with given initial weights, ready to train on given data.

    Parameters
    ----------
    mats : list of ndarray
        ``(targets, sources + 1)`` per layer, bias last (the :mod:`workloads` layout);
        FANN numbers the connections of each neuron in the same order, bias last.
    X, T : ndarray
        ``(patterns, inputs)`` and ``(patterns, outputs)`` training data.
    algorithm : int
        ``FANN_TRAIN_INCREMENTAL`` (online) or ``FANN_TRAIN_BATCH``.
    learning_rate : float
        FANN's own (a float; batch mode divides it by the number of patterns).

    Attributes
    ----------
    ann : int
        The pristine ``struct fann *`` (never trained: :meth:`prepare` trains a copy).
    """

    def __init__(self, mats, X, T, *, algorithm: int, learning_rate: float):
        lib = self.lib = load()
        self.shapes = [np.shape(W) for W in mats]
        sizes = [self.shapes[0][1] - 1] + [s[0] for s in self.shapes]
        ann = lib.fann_create_standard_array(len(sizes), (ctypes.c_uint * len(sizes))(*sizes))
        if not ann:
            raise RuntimeError(f"fann_create_standard_array failed for layers {sizes}")
        n = lib.fann_get_total_connections(ann)
        self.n = n
        conns = (_Connection * n)()
        lib.fann_get_connection_array(ann, conns)
        # the workloads' order: layer by layer, row by row, sources with the bias last
        flat = np.concatenate([np.asarray(W, np.float64).ravel() for W in mats])
        if flat.size != n:
            raise RuntimeError(f"FANN made {n} connections, the matrices have {flat.size}")
        self._check_layout(conns, sizes)
        if n <= _SET_WEIGHT_LIMIT:
            for c, w in zip(conns, flat):
                c.weight = w
            lib.fann_set_weight_array(ann, conns, n)
        else:
            ann = self._through_file(ann, flat)
        self.ann = ann
        self.settings = (("fann_set_activation_function_hidden", FANN_SIGMOID),
                         ("fann_set_activation_function_output", FANN_SIGMOID),
                         ("fann_set_activation_steepness_hidden", 0.5),
                         ("fann_set_activation_steepness_output", 0.5),
                         ("fann_set_training_algorithm", algorithm),
                         ("fann_set_train_error_function", FANN_ERRORFUNC_LINEAR),
                         ("fann_set_learning_rate", learning_rate), ("fann_set_learning_momentum", 0.0))
        self._configure(ann)
        if not np.array_equal(self.flat_weights(ann), flat):
            raise RuntimeError("FANN did not take the initial weights bit for bit")
        data = lib.fann_create_train(X.shape[0], X.shape[1], T.shape[1])
        for i in range(X.shape[0]):
            ctypes.memmove(data.contents.input[i], np.ascontiguousarray(X[i], np.float64).ctypes.data, 8 * X.shape[1])
            ctypes.memmove(data.contents.output[i], np.ascontiguousarray(T[i], np.float64).ctypes.data, 8 * T.shape[1])
        self.data = data
        self._work = None

    def _configure(self, ann):
        for setter, value in self.settings:
            getattr(self.lib, setter)(ann, value)

    @staticmethod
    def _check_layout(conns, sizes):
        """FANN's connection order must be the matrices' (neurons numbered layer by layer, bias last)."""
        first = np.cumsum([0] + [s + 1 for s in sizes])     # each layer has a bias neuron at its end
        k = 0
        for layer in range(1, len(sizes)):
            for j in range(sizes[layer]):
                for i in range(sizes[layer - 1] + 1):
                    c = conns[k]
                    if c.to_neuron != first[layer] + j or c.from_neuron != first[layer - 1] + i:
                        raise RuntimeError(f"unexpected FANN connection order at {k}: {c.from_neuron} -> {c.to_neuron}")
                    k += 1

    def _through_file(self, ann, flat):
        """Put ``flat`` into a big net by editing its saved ``.net`` file (17 significant digits)."""
        lib = self.lib
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "net.net").encode()
            if lib.fann_save(ann, path) != 0:
                raise RuntimeError("fann_save failed")
            with open(path, encoding="ascii") as fh:
                lines = fh.read().split("\n")
            key = "connections (connected_to_neuron, weight)="
            at = next(i for i, line in enumerate(lines) if line.startswith(key))
            sources = [int(part.split(",")[0]) for part in lines[at][len(key):].strip().strip("()").split(") (")]
            lines[at] = key + " ".join(f"({s}, {w!r})" for s, w in zip(sources, flat.tolist())) + " "
            with open(path, "w", encoding="ascii") as fh:
                fh.write("\n".join(lines))
            lib.fann_destroy(ann)
            ann = lib.fann_create_from_file(path)
        if not ann:
            raise RuntimeError("fann_create_from_file failed on the edited net")
        return ann

    def flat_weights(self, ann=None) -> np.ndarray:
        """All connection weights of ``ann`` (default: the last trained copy) in the matrices' order."""
        conns = (_Connection * self.n)()
        self.lib.fann_get_connection_array(ann or self._work, conns)
        return np.array([c.weight for c in conns])

    def matrices(self) -> list[np.ndarray]:
        """The last trained copy's weights as ``(targets, sources + 1)`` matrices."""
        flat, out, off = self.flat_weights(), [], 0
        for s in self.shapes:
            out.append(flat[off:off + s[0] * s[1]].reshape(s))
            off += s[0] * s[1]
        return out

    def prepare(self, epochs: int):
        """A fresh copy of the pristine net and the timed thunk that trains it for ``epochs`` epochs.

        Parameters
        ----------
        epochs : int

        Returns
        -------
        callable
            Runs ``fann_train_on_data(copy, data, epochs, 0, 0.0)`` (no reports; desired
            error 0, which a positive MSE never reaches) and returns this object.
        """
        if self._work is not None:
            self.lib.fann_destroy(self._work)
        work = self._work = self.lib.fann_copy(self.ann)
        self._configure(work)         # FANN 2.2's fann_copy forgets the training algorithm
        lib, data = self.lib, self.data

        def run():
            lib.fann_train_on_data(work, data, epochs, 0, 0.0)
            return self
        return run
