"""The timings line the Remote API node shows: cold starts and snapshot restores are named."""

from comfy_remote.remote_call import timings_text

T = {"queue_seconds": 0.5, "startup_seconds": 3.1372, "run_seconds": 2, "transfer_seconds": 0.1}


def test_plain_timings():
    assert timings_text(T) == "queue 0.5 s, start-up 3.14 s, run 2 s, transfer 0.1 s"
    assert timings_text(dict(T, cold_start=False)) == timings_text(T)
    assert timings_text(None) == ""


def test_cold_start_and_restore_are_named():
    assert "start-up 3.14 s (cold start), run" in timings_text(dict(T, cold_start=True))
    text = timings_text(dict(T, cold_start=True, restored_from_snapshot=True))
    assert "start-up 3.14 s (cold start, restored from snapshot), run" in text
