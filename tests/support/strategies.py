"""Hypothesis strategies the tests share."""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["json_values"]

# Any small JSON value a device could send, the awkward ones included (NaN, huge integers).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)
