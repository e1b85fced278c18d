"""Torch tensors through the codec (run under /usr/bin/python3 with python3-torch)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from comfy_remote.codec import decode_value, encode_value
from comfy_remote.files import WorkDir

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("contiguous", [True, False])
def test_tensor_round_trip_is_bit_exact(dtype, contiguous):
    g = torch.Generator().manual_seed(1)
    t = torch.rand(2, 16, 12, 3, generator=g).to(getattr(torch, dtype))
    if not contiguous:
        t = t.transpose(1, 2)  # [2,12,16,3], a non-contiguous view
        assert not t.is_contiguous()
    with WorkDir() as work:
        ev = encode_value(t, sink=work.sink, name="image")
        assert ev["type"] == "IMAGE" and ev["encoding"] == "npy"
        assert ev.get("dtype") == ("bfloat16" if dtype == "bfloat16" else None)
        back = decode_value(json.loads(json.dumps(ev)), file_root=work.path)
    assert isinstance(back, torch.Tensor) and back.dtype == t.dtype and tuple(back.shape) == tuple(t.shape)
    assert torch.equal(back, t.contiguous())
    back.add_(1)  # decoded tensors are writable and own their memory


def test_bfloat16_bits_match_the_wire_format():
    t = torch.tensor([1.0, -2.5, 0.15625], dtype=torch.bfloat16)
    ev = encode_value(t)
    assert ev["dtype"] == "bfloat16"
    back = decode_value(ev)
    assert back.dtype == torch.bfloat16 and back.float().tolist() == [1.0, -2.5, 0.15625]
    assert back.view(torch.int16).tolist() == [16256, -16352, 15904]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_tensor_encodes():
    t = torch.rand(1, 4, 4, 3, device="cuda")
    assert torch.equal(decode_value(encode_value(t)), t.cpu())


def test_mask_and_latent_with_tensors():
    mask = torch.ones(1, 8, 8)
    ev = encode_value(mask)
    assert ev["type"] == "MASK"
    assert tuple(decode_value(ev).shape) == (1, 8, 8)
    assert tuple(decode_value(encode_value(mask[0], "MASK")).shape) == (1, 8, 8)
    latent = {"samples": torch.randn(1, 4, 8, 8), "noise_mask": torch.ones(1, 1, 8, 8)}
    ev = encode_value(latent)
    assert ev["type"] == "LATENT"
    back = decode_value(ev)
    assert torch.equal(back["samples"], latent["samples"]) and torch.equal(back["noise_mask"], latent["noise_mask"])
    cond = [[torch.randn(1, 77, 16), {"pooled_output": torch.randn(1, 16)}]]
    assert encode_value(cond)["type"] == "CONDITIONING"
    assert torch.equal(decode_value(encode_value(cond))[0][1]["pooled_output"], cond[0][1]["pooled_output"])


def test_uint16_npy_becomes_a_tensor_even_on_old_torch():
    ev = encode_value(np.array([1, 65535], dtype=np.uint16))
    back = decode_value(ev)
    assert back.tolist() == [1, 65535]
