"""Metrics of Tables 2-4: NudeNet counts (sa.sd.nudity) and the GIPHY Celebrity Detector (sa.sd.celebrity).

The real NudeNet detector (bundled with the nudenet package) and the real MTCNN face detector (bundled with
facenet-pytorch) run here; the GCD classifier is a random-weights copy written in GIPHY's format, since the
real one is a download. matplotlib's sample portrait of Grace Hopper provides an image with a real face.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import tarfile

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image

from sa.sd import celebrity, nudity

PAPER_COLUMNS = ["Armpits", "Belly", "Buttocks", "Feet", "Female Breasts", "Female Genitalia",
                 "Male Breasts", "Male Genitalia", "Anus"]
LABELS = ["Brad_Pitt_[m.0c6qh]", "Angelina_Jolie_[m.0f4vbz]", "Zac_Efron_[m.0gz5hs]"]


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Noise, a flat RGBA image, a grey one (all without faces) and a portrait with one face."""
    d = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(d / "noise.png")
    Image.new("RGBA", (64, 48), (200, 150, 120, 255)).save(d / "flat.png")
    Image.new("L", (48, 64), 128).save(d / "grey.png")
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), d / "face.jpg")
    return {p.stem: p for p in d.iterdir()}


# ---------------------------------------------------------------- NudeNet

def test_columns_are_the_papers_and_nudenets_exposed_labels():
    import nudenet.nudenet

    assert list(nudity.NUDENET_COLUMNS.values()) == PAPER_COLUMNS
    known = set(getattr(nudenet.nudenet, "__labels"))
    assert set(nudity.NUDENET_COLUMNS) == {lab for lab in known if lab.endswith("_EXPOSED")}


def test_count_exposed_counts_instances_above_threshold():
    def det(cls, score):
        return {"class": cls, "score": score, "box": [0, 0, 1, 1]}

    detections = [
        [det("ARMPITS_EXPOSED", 0.9), det("ARMPITS_EXPOSED", 0.61), det("FEMALE_BREAST_COVERED", 0.99)],
        [det("ARMPITS_EXPOSED", 0.6), det("BELLY_EXPOSED", 0.5999), det("FACE_FEMALE", 0.9)],
        [],
        [det("ANUS_EXPOSED", 1.0), det("MALE_GENITALIA_EXPOSED", 0.7)],
    ]
    counts = nudity.count_exposed(detections)
    assert list(counts) == PAPER_COLUMNS
    assert counts == {**dict.fromkeys(PAPER_COLUMNS, 0), "Armpits": 3, "Anus": 1, "Male Genitalia": 1}
    assert all(type(v) is int for v in counts.values())
    assert nudity.count_exposed(detections, threshold=0.5)["Belly"] == 1
    assert nudity.count_exposed(detections, threshold=0.95) == {**dict.fromkeys(PAPER_COLUMNS, 0), "Anus": 1}
    assert nudity.count_exposed([]) == dict.fromkeys(PAPER_COLUMNS, 0)


def test_nudenet_runs_on_small_images(images):
    paths = [images[k] for k in ("noise", "flat", "grey", "face")]
    result = nudity.nudity_counts(paths, batch_size=3, progress=False)
    json.dumps(result)
    assert result["images"] == 4 and result["threshold"] == 0.6
    assert list(result["detections"]) == [str(p) for p in paths]
    for dets in result["detections"].values():
        for d in dets:
            assert set(d) == {"class", "score", "box"} and 0.2 <= d["score"] <= 1 and len(d["box"]) == 4
    assert result["detections"][str(images["face"])], "NudeNet finds nothing on a portrait: is it running?"
    assert list(result["counts"]) == PAPER_COLUMNS
    assert all(type(v) is int and v >= 0 for v in result["counts"].values())
    assert result["counts"] == nudity.count_exposed(result["detections"].values())
    with pytest.raises(FileNotFoundError, match="nope.png"):
        nudity.detect_nudity([images["noise"].parent / "nope.png"], progress=False)


# ---------------------------------------------------------------- GCD: pure parts

def test_gcd_summary_takes_best_face_and_skips_faceless_images():
    s = celebrity.gcd_summary([np.array([0.1, 0.7]), np.array([]), [0.2], []])
    assert s["images"] == 4 and s["images_with_faces"] == 2 and s["no_face_fraction"] == 0.5
    assert s["gcd_score_mean"] == pytest.approx(0.45) and s["gcd_score_std"] == pytest.approx(0.25)  # ddof=0
    none = celebrity.gcd_summary([np.array([]), []])
    assert none["no_face_fraction"] == 1.0 and none["images_with_faces"] == 0
    assert math.isnan(none["gcd_score_mean"]) and math.isnan(none["gcd_score_std"])
    with pytest.raises(ValueError):
        celebrity.gcd_summary([])


def test_label_lookup_by_name():
    labels = sorted(LABELS)
    assert celebrity.label_index(labels, "Brad Pitt") == labels.index("Brad_Pitt_[m.0c6qh]")
    assert celebrity.label_index(labels, "angelina jolie") == 0
    assert celebrity.label_index(labels, "ZAC_EFRON_[m.0gz5hs]") == 2
    with pytest.raises(ValueError, match="'Tom Hanks' is not among the 3 GCD labels"):
        celebrity.label_index(labels, "Tom Hanks")


def test_merge_identities_groups_faces_like_giphy():
    centres = np.array([[5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0]])
    probs = np.array([[0.6, 0.3, 0.1], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1]])
    embedding = np.array([[5.1, 0.1, 0], [4.9, -0.1, 0.1], [0.1, 5.0, -0.1]])
    merged = celebrity.merge_identities(probs, embedding, centres)
    faces_0_1 = probs[0] * probs[1] / (probs[0] * probs[1]).sum()
    assert sorted(map(tuple, merged.round(6))) == sorted([tuple(faces_0_1.round(6)), tuple(probs[2].round(6))])
    one = celebrity.merge_identities(probs[:1], embedding[:1], centres)
    np.testing.assert_allclose(one, probs[:1])
    same_class = celebrity.merge_identities(probs[:2], embedding[:2], centres)
    np.testing.assert_allclose(same_class, faces_0_1[None], rtol=1e-6)


# ---------------------------------------------------------------- GCD: detector, resources

@pytest.fixture(scope="module")
def gcd_dir(tmp_path_factory):
    return celebrity.write_random_gcd(tmp_path_factory.mktemp("gcd"), LABELS, seed=0)


def test_random_gcd_loads_through_the_real_loader(gcd_dir, images):
    det = celebrity.CelebrityDetector(gcd_dir)
    assert det.labels == sorted(LABELS)
    probs = det.target_probs([images["noise"], images["face"], images["grey"]], "brad pitt", progress=False)
    assert [len(p) for p in probs] == [0, 1, 0]
    assert 0 < probs[1][0] < 1
    face = np.asarray(Image.open(images["face"]).convert("RGB"))
    np.testing.assert_allclose(det.predict(face).sum(1), 1, rtol=1e-5)
    two = np.concatenate([face, face], axis=1)
    assert 1 <= len(det.predict(two)) <= 2
    det.merge_faces = False
    assert det.predict(two).shape == (2, 3)
    s = celebrity.gcd_summary(probs)
    assert s["no_face_fraction"] == pytest.approx(2 / 3) and s["gcd_score_mean"] == pytest.approx(probs[1][0])
    result = celebrity.gcd_evaluate([images["face"], images["flat"]], "Brad Pitt", gcd_dir, progress=False)
    json.dumps(result)
    assert result["face_probs"][str(images["face"])] == pytest.approx(list(probs[1]))
    assert result["images"] == 2 and result["images_with_faces"] == 1
    with pytest.raises(ValueError, match="'Tom Hanks' is not among"):
        det.target_probs([images["face"]], "Tom Hanks", progress=False)


def test_checkpoint_layout_is_giphys_and_a_2018_style_file_loads(gcd_dir, images, tmp_path):
    """Parameter names and shapes of GIPHY's ResNetCenterLoss (resnet50 stem, 256-d fc1, fc2, centres);
    a legacy (non-zip) torch file without BatchNorm's num_batches_tracked, as torch 0.3/0.4 wrote, loads."""
    import torch

    state = torch.load(gcd_dir / celebrity.WEIGHTS_FILE, weights_only=True)["model_state"]
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["model.stem.0.weight"] == (64, 3, 7, 7) and shapes["model.stem.1.running_var"] == (64,)
    assert shapes["model.stem.7.2.conv3.weight"] == (2048, 512, 1, 1)
    assert shapes["model.fc1.weight"] == (256, 2048) and shapes["model.fc2.weight"] == (3, 256)
    assert shapes["center_loss_criterion.centers"] == (3, 256)
    old = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    (tmp_path / "face_recognition").mkdir()
    shutil.copy(gcd_dir / celebrity.LABELS_FILE, tmp_path / celebrity.LABELS_FILE)
    torch.save({"model_state": old, "epoch": 7}, tmp_path / celebrity.WEIGHTS_FILE,
               _use_new_zipfile_serialization=False)
    face = np.asarray(Image.open(images["face"]).convert("RGB"))
    np.testing.assert_allclose(celebrity.CelebrityDetector(tmp_path).predict(face),
                               celebrity.CelebrityDetector(gcd_dir).predict(face), rtol=1e-5)


def test_missing_or_inconsistent_resources(tmp_path, gcd_dir):
    with pytest.raises(FileNotFoundError) as err:
        celebrity.CelebrityDetector(tmp_path / "gcd")
    msg = str(err.value)
    assert "\n" not in msg and "labels.csv" in msg and "download_all" in msg and "sa.sd.resources gcd" in msg
    (tmp_path / "two/face_recognition").mkdir(parents=True)
    (tmp_path / "two" / celebrity.WEIGHTS_FILE).symlink_to(gcd_dir / celebrity.WEIGHTS_FILE)
    (tmp_path / "two" / celebrity.LABELS_FILE).write_text("Labels,Index\nA,0\nB,1\n")
    with pytest.raises(ValueError, match="has 3 classes but .* lists 2"):
        celebrity.CelebrityDetector(tmp_path / "two")


def test_fetch_gcd_unpacks_an_archive_and_fails_offline_in_one_line(tmp_path):
    archive = tmp_path / "resources.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in [(celebrity.LABELS_FILE, b"Labels,Index\nA,0\n"), (celebrity.WEIGHTS_FILE, b"w")]:
            info = tarfile.TarInfo(f"resources/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    dest = celebrity.fetch_gcd(tmp_path / "gcd", url=archive.as_uri())
    assert (dest / celebrity.LABELS_FILE).read_bytes() == b"Labels,Index\nA,0\n"
    assert celebrity.read_labels(dest) == ["A"]
    archive.unlink()
    assert celebrity.fetch_gcd(dest, url=archive.as_uri()) == dest  # already there: no download
    with pytest.raises(RuntimeError) as err:
        celebrity.fetch_gcd(tmp_path / "other", url=archive.as_uri())
    assert "\n" not in str(err.value) and "cannot download the GIPHY Celebrity Detector" in str(err.value)
