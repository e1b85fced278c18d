"""comfy_app_mode + comfy_wire on an App Mode prompt (marks in _meta.comfy_remote_app, as the scaffolder
writes them for a UI workflow with extra.linearData): mapping, checks, injection, collection."""

import base64
import io
import zlib

import pytest

from scaffolder_fixtures import modules, project  # noqa: F401 - pytest fixtures

META = "comfy_remote_app"
PROMPT = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"},
          "_meta": {"title": "Load Image", META: {"inputs": [{"name": "image", "input": "image", "order": 0, "type": "IMAGE", "upload": "image"}]}}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["5:2", 0], "filename_prefix": "inverted"},
          "_meta": {"title": "Save Image", META: {"inputs": [{"name": "prefix", "input": "filename_prefix", "order": 2, "type": "STRING"}],
                                                   "output": {"name": "images", "order": 0, "type": "IMAGE"}}}},
    "5:1": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "5:2": {"class_type": "ImageBlur", "inputs": {"image": ["5:1", 0], "blur_radius": 4, "sigma": 1.5},
            "_meta": {META: {"inputs": [{"name": "blur_radius", "input": "blur_radius", "order": 1, "type": "INT"}]}}},
}


def j(data, type_="*"):
    return {"type": type_, "encoding": "json", "data": data}


def test_marks_are_read_in_the_editors_order(modules):
    import comfy_app_mode as app

    assert [(e["name"], e["targets"], e["upload"]) for e in app.app_inputs(PROMPT)] == [
        ("image", [("1", "image")], "image"),
        ("blur_radius", [("5:2", "blur_radius")], None),
        ("prefix", [("3", "filename_prefix")], None),
    ]
    assert app.app_outputs(PROMPT) == [{"name": "images", "node_id": "3", "order": 0}]


def test_map_checks_and_injects_widget_values(modules):
    wire, _ = modules
    mapped = wire.map_inputs(PROMPT, {"blur_radius": j(9), "prefix": j("x"), "input_1": j("other.png")})
    assert set(mapped) == {"app:blur_radius", "app:prefix", "app:image"}
    out = wire.inject(PROMPT, mapped)
    assert out["5:2"]["inputs"]["blur_radius"] == 9 and out["3"]["inputs"]["filename_prefix"] == "x"
    assert out["1"]["inputs"]["image"] == "other.png"
    assert PROMPT["5:2"]["inputs"]["blur_radius"] == 4


@pytest.mark.parametrize("inputs, message", [
    ({"blur_radius": j(2.5)}, r"inputs\.blur_radius: App Mode input 'blur_radius' expects an integer, got 2\.5"),
    ({"prefix": j(True)}, r"inputs\.prefix: App Mode input 'prefix' expects a string, got true"),
    ({"image": {"type": "IMAGE", "encoding": "object", "data": {}}}, r"inputs\.image: an image upload widget takes IMAGE bytes"),
    ({"nope": j(1)}, r'inputs\.nope: no Remote Input or App Mode input has this name \(known: "image", "blur_radius", "prefix"\)'),
])
def test_bad_values_are_bad_requests_naming_the_input(modules, inputs, message):
    wire, _ = modules
    with pytest.raises(wire.WireError, match=message) as err:
        wire.map_inputs(PROMPT, inputs)
    assert err.value.code == "BAD_REQUEST"


def test_collect_lists_output_files_as_references(modules):
    wire, _ = modules
    entry = {"outputs": {"3": {"images": [{"filename": "inverted_00001_.png", "subfolder": "", "type": "output"}]}}}
    assert wire.collect_outputs(PROMPT, entry) == {
        "images": {"type": "IMAGE", "encoding": "png", "data": {"file": {"filename": "inverted_00001_.png", "subfolder": "", "type": "output"}}}
    }
    import comfy_app_mode as app

    video = {"3": {"images": [{"filename": "a.mp4", "subfolder": "video", "type": "output"}], "animated": [True]}}
    found, missing = app.collect(PROMPT, video)
    assert found["images"]["encoding"] == "file" and found["images"]["type"] == "VIDEO" and found["images"]["mime"] == "video/mp4"
    assert app.collect(PROMPT, {})[1] == ["images"]


def test_upload_file_turns_an_npy_image_into_a_png(modules):
    np = pytest.importorskip("numpy")
    import comfy_app_mode as app

    buf = io.BytesIO()
    np.save(buf, np.full((1, 2, 3, 3), 0.5, dtype="float32"))
    value = {"type": "IMAGE", "encoding": "npy", "data": base64.b64encode(buf.getvalue()).decode()}
    name, raw, mime = app.upload_file(app.app_inputs(PROMPT)[0], value, "cr-job/../x", 0)
    assert (name, mime) == ("cr-jobx-0.png", "image/png")
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[16:24] == bytes([0, 0, 0, 3, 0, 0, 0, 2])  # IHDR 3x2
    assert zlib.decompress(raw[41:-16]) == b"".join(b"\x00" + bytes([128] * 9) for _ in range(2))
    batch = io.BytesIO()
    np.save(batch, np.zeros((2, 2, 2, 3), dtype="float32"))
    with pytest.raises(ValueError, match="batch of 2"):
        app.upload_file(app.app_inputs(PROMPT)[0], dict(value, data=base64.b64encode(batch.getvalue()).decode()), "p", 0)
