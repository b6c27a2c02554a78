"""The model store's own servability check."""
from __future__ import annotations

import pytest


def test_the_store_alone_refuses_an_incomplete_version(tmp_path):
    """Without the server's deeper check, promotion still refuses a version
    whose SavedModel is not all there (components/imgpipe_components/model_store/servable.py)."""
    from imgpipe_components.model_store.servable import NotServable, is_complete
    (tmp_path / "1").mkdir()
    with pytest.raises(NotServable, match="holds no saved_model.pb"):
        is_complete(str(tmp_path), "digits", 1)
    (tmp_path / "1" / "saved_model.pb").write_bytes(b"model")
    is_complete(str(tmp_path), "digits", 1)
