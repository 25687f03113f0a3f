"""Remote models over the KServe v2 / Open Inference Protocol REST API
(`POST {url}/v2/models/{model}[/versions/{version}]/infer`), as MLServer, KServe, Triton and
Seldon serve it: windows go as one FP32 tensor `[N, window]`, the first output gives one score
per row (or the rows rebuilt, for `output: reconstruction`)."""

from __future__ import annotations

from typing import Any

import httpx

from shared.errors import Disposition, StratusError
from shared.inference.bindings import Binding

__all__ = ["RemoteModelFailed", "infer", "infer_url"]


class RemoteModelFailed(StratusError):
    """The remote model failed or timed out on the last attempt: park the request with the
    reason (earlier attempts raise Unavailable and the bus retries them with backoff)."""

    status, code, disposition = 502, "remote_model_failed", Disposition.DEAD_LETTER


def infer_url(binding: Binding) -> str:
    params = binding.params
    version = params.get("version")
    base = f"{params['url']}/v2/models/{params['model']}"
    return f"{base}/versions/{version}/infer" if version else f"{base}/infer"


def infer(client: httpx.Client, binding: Binding, windows: list[list[float]]) -> list[float]:
    """One score per window; raises httpx errors and ValueError (with the reason) on failure."""
    from shared.inference.onnx_models import scores_of

    params = binding.params
    flat = [value for row in windows for value in row]
    body = {
        "inputs": [
            {"name": params.get("input", "input-0"), "shape": [len(windows), binding.window],
             "datatype": "FP32", "data": flat}
        ]
    }  # fmt: skip
    response = client.post(infer_url(binding), json=body, timeout=float(params.get("timeout", 5)))
    if response.status_code != 200:
        raise ValueError(
            f"{infer_url(binding)} answered {response.status_code}: {response.text[:300]}"
        )
    answer: Any = response.json()
    outputs = answer.get("outputs") if isinstance(answer, dict) else None
    if not outputs or not isinstance(outputs[0].get("data"), list):
        raise ValueError(f"{infer_url(binding)} answered no output data")
    import numpy as np

    data = np.asarray(outputs[0]["data"], dtype=np.float64).reshape(len(windows), -1)
    return scores_of(
        data, np.asarray(windows, dtype=np.float64), str(params.get("output", "score"))
    )
