"""Exchange formats: networks written for, and read from, other tools.

:func:`to_onnx` exports a network's forward pass as an ONNX model (the optional extra
``onnx``: ``pip install 'neurosim[onnx]'``), which onnxruntime, Netron and the ONNX
converters open. :func:`read_fann` and :func:`write_fann` read and write the ``.net``
files of the FANN library (format ``FANN_FLO_2.1``), whose explicit connection list
carries sparse networks and skip connections. neurosim's own format, ``network.json``,
is :meth:`neurosim.Network.to_dict`. What each format carries and loses is in
docs/exchange.md.
"""

from __future__ import annotations

from .fann import read_fann, write_fann
from .onnx import to_onnx

__all__ = ["to_onnx", "read_fann", "write_fann"]
