import numpy as np
import pytest

from sa.data import DatasetUnavailable, build_dataset, dataset_info, load_split, save_dataset, stratified_split


@pytest.mark.parametrize("name,size,n", [("mnist5k", 28, 5000), ("digits", 8, 1797)])
def test_offline_datasets_build_in_the_common_format(name, size, n):
    arrays = build_dataset(name, "unused", test_fraction=0.2, seed=0)
    assert arrays["x_train"].dtype == np.uint8 and arrays["x_train"].shape[1:] == (1, size, size)
    assert len(arrays["x_train"]) + len(arrays["x_test"]) == n
    assert arrays["x_train"].max() > 200, "images use the 8-bit range"
    assert set(np.unique(arrays["y_train"])) == set(range(10)) == set(np.unique(arrays["y_test"]))
    assert list(arrays["class_names"]) == list(dataset_info(name).class_names)


def test_split_is_fixed_by_the_seed_stratified_and_disjoint():
    labels = np.repeat(np.arange(10), 50)
    train_a, test_a = stratified_split(labels, 0.2, seed=7)
    train_b, test_b = stratified_split(labels, 0.2, seed=7)
    _, test_c = stratified_split(labels, 0.2, seed=8)
    assert np.array_equal(test_a, test_b) and np.array_equal(train_a, train_b)
    assert not np.array_equal(test_a, test_c)
    assert not set(train_a) & set(test_a) and len(train_a) + len(test_a) == 500
    assert (np.bincount(labels[test_a]) == 10).all()


def test_round_trip_through_the_file(tmp_path):
    arrays = build_dataset("digits", "unused", test_fraction=0.25, seed=0)
    save_dataset(arrays, tmp_path / "digits.npz")
    x, y = load_split(tmp_path / "digits.npz", "test")
    assert x.shape == (len(arrays["y_test"]), 1, 8, 8) and 0.0 <= x.min() and x.max() <= 1.0
    assert np.array_equal(y.numpy(), arrays["y_test"])
    assert not list(tmp_path.glob(".*partial")), "no temporary file is left behind"


def test_a_dataset_that_needs_a_download_says_so_in_one_line(tmp_path):
    with pytest.raises(DatasetUnavailable) as err:
        build_dataset("mnist", tmp_path, test_fraction=0.2, seed=0, download=False)
    message = str(err.value)
    assert "\n" not in message and "MNIST" in message and str(tmp_path) in message


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(KeyError, match="mnist5k"):
        dataset_info("imagenet")
