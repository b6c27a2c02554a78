"""A signature called without TensorFlow's per-call Python binding.

Calling a loaded signature by keyword (`fn(image_bytes=t)`) binds the
arguments against its FunctionType and filters them on every call, a
sizeable share of a batch-1 prediction on CPU. The REST layer has already
checked names, dtypes and shapes against the SignatureDef, so the graph can
be called with its flat inputs directly.

That uses ConcreteFunction's `_call_flat`, which is not public API
(`imgpipe_components.library_internals.call_concrete_function_flat`). So it
is never trusted blindly: the first successful call of each signature
(the warm-up, before the version takes traffic) runs both ways and compares
the outputs; the flat call is used only if they are equal, and if it fails
there (a TensorFlow upgrade that changed it) the public call is kept for
good. Input errors (an image that does not decode) come from the kernels
either way, with the same message.
"""
from __future__ import annotations

import logging
from typing import Dict, Optional

import numpy as np

from imgpipe_components import library_internals

log = logging.getLogger("imgpipe.serve")


class SignatureCaller:

    def __init__(self, function):
        self.function = function
        self._verified: Optional[bool] = None     # None: not yet tried

    @property
    def uses_flat_call(self) -> bool:
        """Whether calls now take the flat path (verified at warm-up)."""
        return bool(self._verified)

    def public(self, inputs: Dict[str, object]) -> Dict[str, np.ndarray]:
        outputs = self.function(**inputs)
        return {name: tensor.numpy() for name, tensor in outputs.items()}

    def _flat(self, inputs: Dict[str, object]) -> Dict[str, np.ndarray]:
        # Signature inputs are keyword-only and flatten in key order.
        flat = [inputs[name] for name in sorted(inputs)]
        outputs = library_internals.call_concrete_function_flat(
            self.function, flat)
        return {name: tensor.numpy() for name, tensor in outputs.items()}

    def __call__(self, inputs: Dict[str, object]) -> Dict[str, np.ndarray]:
        if self._verified:
            return self._flat(inputs)
        expected = self.public(inputs)      # errors surface from here
        if self._verified is None:
            self._verified = self._agrees(inputs, expected)
        return expected

    def _agrees(self, inputs, expected: Dict[str, np.ndarray]) -> bool:
        try:
            fast = self._flat(inputs)
            same = fast.keys() == expected.keys() and all(
                fast[k].dtype == expected[k].dtype
                and np.array_equal(fast[k], expected[k]) for k in expected)
        except Exception as error:  # noqa: BLE001 - any doubt: public path
            log.info("Flat signature call unavailable (%s: %s); using the "
                     "public call", type(error).__name__, error)
            return False
        if not same:
            log.warning("Flat signature call disagrees with the public "
                        "call; using the public call")
        return same
