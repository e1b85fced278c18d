"""AUDIO values that arrive as audio files (``file`` encoding) decode to ComfyUI's AUDIO dict."""

from __future__ import annotations

import base64
import io
import sys
import types
import wave

import numpy as np
import pytest

from comfy_remote.codec import decode_value
from comfy_remote.errors import CodecError


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """int16 PCM WAV of ``samples`` [channels, n]."""

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(samples.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(samples.T).astype("<i2").tobytes())
    return out.getvalue()


def audio_value(data: bytes, mime: str = "audio/wav", type_: str = "AUDIO") -> dict:
    return {"type": type_, "encoding": "file", "mime": mime, "filename": "a.wav", "data": base64.b64encode(data).decode()}


def test_a_wav_file_becomes_an_audio_dict_with_its_samples():
    left = np.array([0, 16384, -16384, 32767], dtype=np.int16)
    right = np.array([1, -1, 2, -32768], dtype=np.int16)
    audio = decode_value(audio_value(wav_bytes(np.stack([left, right]), 22050)))
    waveform = np.asarray(audio["waveform"])
    assert audio["sample_rate"] == 22050
    assert waveform.shape == (1, 2, 4) and waveform.dtype == np.float32
    assert np.allclose(waveform[0, 0], left / 32768.0) and np.allclose(waveform[0, 1], right / 32768.0)


def test_an_untyped_audio_file_is_audio_when_it_decodes_and_a_file_when_not():
    audio = decode_value(audio_value(wav_bytes(np.zeros((1, 8), np.int16), 8000), type_="*"))
    assert audio["sample_rate"] == 8000
    kept = decode_value(audio_value(b"not a wav at all", mime="audio/flac", type_="*"))
    assert kept.read() == b"not a wav at all"


def test_bytes_that_are_not_audio_are_a_coded_error_naming_the_field():
    with pytest.raises(CodecError) as caught:
        decode_value(audio_value(b"RIFF....WAVEjunk"), where="outputs.voice")
    assert caught.value.code == "AUDIO_UNDECODABLE" and "outputs.voice" in str(caught.value)


def test_inside_comfyui_the_file_goes_to_comfyuis_own_loader(monkeypatch):
    seen = {}

    def load(source):  # comfy_extras.nodes_audio.load: (waveform [C, T], sample_rate)
        seen["bytes"] = source.read()
        return types.SimpleNamespace(unsqueeze=lambda dim: ("batched", dim)), 48000

    package = types.ModuleType("comfy_extras")
    module = types.ModuleType("comfy_extras.nodes_audio")
    module.load = load
    package.nodes_audio = module
    monkeypatch.setitem(sys.modules, "comfy_extras", package)
    monkeypatch.setitem(sys.modules, "comfy_extras.nodes_audio", module)
    flac = b"fLaC\x00\x00\x00\x22" + bytes(40)
    audio = decode_value(audio_value(flac, mime="audio/flac"))
    assert seen["bytes"] == flac
    assert audio == {"waveform": ("batched", 0), "sample_rate": 48000}
