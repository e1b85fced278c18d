"""AUDIO values that arrive as files (``file`` encoding, audio/wav, audio/flac, ...) -> ComfyUI AUDIO.

ComfyUI's AUDIO is ``{"waveform": float32 tensor [batch, channels, samples], "sample_rate": int}``.
Inside ComfyUI the file is decoded with ComfyUI's own loader (``comfy_extras.nodes_audio.load``, PyAV:
what LoadAudio does, in 0.3.6x and current versions alike), so every format LoadAudio reads works.
Without ComfyUI (tests, scripts) plain PCM WAV is decoded with the standard library.
"""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np

from .errors import CodecError
from .tensors import numpy_to_tensor, torch_module

_PCM = {1: (np.uint8, 128.0, 128.0), 2: (np.int16, 0.0, 32768.0), 4: (np.int32, 0.0, 2147483648.0)}


def _comfy_loader() -> Any:
    try:
        from comfy_extras.nodes_audio import load  # type: ignore[import-not-found]
    except Exception:  # noqa: BLE001 - not inside ComfyUI, or its audio stack is missing
        return None
    return load


def _wav_pcm(data: bytes, where: str) -> tuple[np.ndarray, int]:
    """``(float32 [channels, samples], sample_rate)`` of a PCM WAV file (8/16/32-bit)."""

    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise CodecError(
            f"{where}: the audio is not a PCM WAV file this Python can read ({exc}); inside ComfyUI any format "
            "LoadAudio reads works",
            code="AUDIO_UNDECODABLE",
            cause=exc,
        ) from exc
    if width not in _PCM:
        raise CodecError(f"{where}: {8 * width}-bit WAV samples are not supported here; send 8, 16 or 32-bit PCM", code="AUDIO_UNDECODABLE")
    dtype, offset, scale = _PCM[width]
    samples = (np.frombuffer(frames, dtype=np.dtype(dtype).newbyteorder("<")).astype(np.float32) - offset) / scale
    return np.ascontiguousarray(samples.reshape(-1, channels).T), rate


def audio_from_bytes(data: bytes | bytearray | memoryview, where: str = "value") -> dict[str, Any]:
    """A ComfyUI AUDIO dict from an audio file's bytes; ``AUDIO_UNDECODABLE`` when they are not audio."""

    raw = bytes(data)
    load = _comfy_loader()
    if load is not None:
        try:
            waveform, rate = load(io.BytesIO(raw))
        except Exception as exc:  # noqa: BLE001 - PyAV raises many kinds
            raise CodecError(
                f"{where}: the audio file could not be decoded ({type(exc).__name__}: {exc}); send a file LoadAudio can read",
                code="AUDIO_UNDECODABLE",
                cause=exc,
            ) from exc
        return {"waveform": waveform.unsqueeze(0), "sample_rate": int(rate)}
    samples, rate = _wav_pcm(raw, where)
    batch = samples[np.newaxis, ...]
    waveform = numpy_to_tensor(batch) if torch_module() is not None else batch
    return {"waveform": waveform, "sample_rate": int(rate)}


__all__ = ["audio_from_bytes"]
