"""The serving tests' fixtures (a real pushed model, real PNGs), shared."""
from tests.serving.conftest import (digit_pngs, model_base,  # noqa: F401
                                    pushed_version)
