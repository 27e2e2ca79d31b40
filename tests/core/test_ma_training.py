"""Weights status before training, and net types offered on multi-animal projects."""

from __future__ import annotations

from pathlib import Path

import pytest

from _fresh_process import top_level_modules_after
from napari_dlcflow.core.engine.dataset import net_types_for
from napari_dlcflow.core.engine.weights import choose_weights, is_online, weights_status

BOTTOM_UP = {
    "model": {
        "backbone": {"type": "ResNet", "model_name": "resnet50_gn"},
        "heads": {},
    }
}
TOP_DOWN = {
    "model": {"backbone": {"type": "ResNet", "model_name": "resnet50_gn"}, "heads": {}},
    "detector": {"model": {"type": "FasterRCNN", "variant": "fasterrcnn_mobilenet_v3_large_fpn"}},
}


@pytest.fixture
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    hf, th = tmp_path / "hf", tmp_path / "torch"
    monkeypatch.setenv("HF_HOME", str(hf))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(th))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return hf, th


def test_empty_cache_offline_is_not_available(caches: tuple[Path, Path]) -> None:
    st = weights_status(BOTTOM_UP)
    assert [w.name for w in st.needed] == ["resnet50_gn"]
    item = st.needed[0]
    assert not item.cached and not st.online and not st.available
    assert item.cache_path == caches[0] / "hub" / "models--timm--resnet50_gn.a1h_in1k"
    assert "not available offline" in st.message and str(item.cache_path) in st.message
    code = (
        "from napari_dlcflow.core.engine.weights import weights_status\n"
        f"weights_status({BOTTOM_UP!r})"
    )
    assert "deeplabcut" not in top_level_modules_after(code)


def test_cached_file_where_timm_looks(caches: tuple[Path, Path]) -> None:
    snap = caches[0] / "hub" / "models--timm--resnet50_gn.a1h_in1k" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "model.safetensors").write_bytes(b"x")
    st = weights_status(BOTTOM_UP)
    assert st.needed[0].cached and st.available and st.message == ""
    assert choose_weights(BOTTOM_UP, "auto") == ("pretrained", "")
    assert choose_weights(BOTTOM_UP, "pretrained") == ("pretrained", "")


def test_auto_falls_back_to_scratch_and_pretrained_refuses(caches: tuple[Path, Path]) -> None:
    weights, note = choose_weights(BOTTOM_UP, "auto")
    assert weights == "scratch"
    assert note.startswith("resnet50_gn weights are not available offline")
    assert "training from scratch; pass --weights pretrained when online" in note
    with pytest.raises(ValueError, match="resnet50_gn weights are not available offline"):
        choose_weights(BOTTOM_UP, "pretrained")
    assert choose_weights(BOTTOM_UP, "scratch") == ("scratch", "")
    # The backbone swapped in is the one asked for.
    assert weights_status(BOTTOM_UP, backbone="resnet18").needed[0].name == "resnet18"
    # Online (told, not probed): pretrained, with the download said.
    weights, note = choose_weights(BOTTOM_UP, "auto", online=True)
    assert weights == "pretrained" and "will be downloaded" in note


def test_top_down_detector_offline(caches: tuple[Path, Path]) -> None:
    st = weights_status(TOP_DOWN, "scratch")
    assert [w.role for w in st.needed] == ["detector"]
    assert st.needed[0].cache_path.parent == caches[1] / "hub" / "checkpoints"
    assert not st.detector_offline_ok
    with pytest.raises(ValueError, match=r"detector .* not available offline"):
        choose_weights(TOP_DOWN, "auto")
    st.needed[0].cache_path.parent.mkdir(parents=True)
    st.needed[0].cache_path.write_bytes(b"x")
    assert choose_weights(TOP_DOWN, "scratch") == ("scratch", "")
    ssd = {**TOP_DOWN, "detector": {"model": {"type": "SSDLite"}}}
    assert choose_weights(ssd, "scratch") == ("scratch", "")


def test_offline_decided_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not is_online()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert not is_online(offline=True)


def test_net_types_for_projects() -> None:
    single = {t.name for t in net_types_for(False)}
    multi = {t.name: t for t in net_types_for(True)}
    assert "resnet_50" in single and "top_down_resnet_50" in single
    assert not any(n.startswith(("dlcrnet", "dekr", "ctd")) for n in single)
    assert {"resnet_50", "dlcrnet_stride32_ms5", "dekr_w32", "top_down_hrnet_w32"} <= set(multi)
    assert "rtmpose_s" in multi
    assert not any(n.startswith("ctd") for n in multi)
    assert "part-affinity" in multi["resnet_50"].note
